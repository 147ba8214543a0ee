import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { LedgerError } from '../ledger-error.js';
import { assertStrictSchema, nonStrictObjectPaths, validateBody, ZodBodyPipe } from './zod-body.pipe.js';
import { zodToOpenApiSchema } from './zod-openapi.js';

const Override = z.strictObject({
  nodeId: z.string().min(1),
  answer: z.strictObject({ text: z.string(), confidence: z.number().min(0).max(1) }),
  tags: z.array(z.string()).default([]),
});

function failure(fn: () => unknown): LedgerError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerError);
    return error as LedgerError;
  }
  throw new Error('expected a validation failure');
}

describe('validateBody', () => {
  it('returns the parsed output, defaults applied', () => {
    expect(validateBody(Override, { nodeId: 'n1', answer: { text: 'yes', confidence: 0.9 } })).toEqual({
      nodeId: 'n1',
      answer: { text: 'yes', confidence: 0.9 },
      tags: [],
    });
  });

  it('lists every problem with a JSON Pointer path', () => {
    const error = failure(() =>
      validateBody(Override, { nodeId: 5, answer: { text: 'x', confidence: 2, extra: true }, 'we/ird~': 1 }),
    );
    expect(error.code).toBe('REQUEST.VALIDATION_FAILED');
    expect(error.category).toBe('bad_request');
    const errors = error.details.errors as { path: string; message: string }[];
    expect(errors.map((e) => e.path).sort()).toEqual(['/answer/confidence', '/answer/extra', '/nodeId', '/we~1ird~0'].sort());
    expect(errors.find((e) => e.path === '/answer/extra')!.message).toBe('Unknown field.');
    for (const e of errors) expect(typeof e.message).toBe('string');
  });

  it('reports missing fields', () => {
    const errors = failure(() => validateBody(Override, { answer: { text: 'x', confidence: 0 } })).details.errors as { path: string }[];
    expect(errors).toEqual([{ path: '/nodeId', message: expect.any(String) }]);
  });

  it.each([
    [undefined, 'A JSON request body is required.'],
    [null, 'The request body must be a JSON object.'],
    [[1, 2], 'The request body must be a JSON object.'],
    ['text', 'The request body must be a JSON object.'],
  ])('rejects a %j body', (body, message) => {
    expect(failure(() => validateBody(Override, body)).details.errors).toEqual([{ path: '', message }]);
  });

  it('caps the number of listed errors', () => {
    const Many = z.strictObject({ xs: z.array(z.number()) });
    const error = failure(() => validateBody(Many, { xs: Array.from({ length: 150 }, () => 'no') }));
    expect((error.details.errors as unknown[]).length).toBe(100);
    expect(error.message).toMatch(/first 100 of 150/);
  });
});

describe('strictness', () => {
  it('finds non-strict objects anywhere in a schema', () => {
    expect(nonStrictObjectPaths(Override)).toEqual([]);
    expect(nonStrictObjectPaths(z.object({ a: z.string() }))).toEqual(['']);
    expect(
      nonStrictObjectPaths(
        z.strictObject({
          inner: z.object({}).optional(),
          list: z.array(z.looseObject({})),
          either: z.discriminatedUnion('k', [z.strictObject({ k: z.literal('a') }), z.object({ k: z.literal('b') })]),
        }),
      ),
    ).toEqual(['/inner', '/list/*', '/either']);
  });

  it('refuses non-strict body schemas up front', () => {
    expect(() => assertStrictSchema(z.object({ a: z.string() }))).toThrow(/unknown fields at \(root\)/);
    expect(() => new ZodBodyPipe(z.object({}))).toThrow(/strictObject/);
    expect(new ZodBodyPipe(Override).transform({ nodeId: 'n', answer: { text: '', confidence: 1 } })).toMatchObject({ nodeId: 'n' });
  });
});

describe('zodToOpenApiSchema', () => {
  it('produces an OpenAPI 3.0 object schema that forbids unknown fields', () => {
    const schema = zodToOpenApiSchema(Override) as Record<string, any>;
    expect(schema.$schema).toBeUndefined();
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['nodeId', 'answer']); // `tags` has a default: optional on input
    expect(schema.properties.answer.properties.confidence).toMatchObject({ type: 'number', minimum: 0, maximum: 1 });
  });
});
