/**
 * Validation at the edge: a JSON body is checked against a strict zod 4 schema before any handler runs, so
 * bad input gets a 400 with every problem listed, and nothing is appended (DESIGN §9).
 *
 * Prefer `@ZodBody(schema)`: it also answers 415 to non-JSON bodies and documents the body in OpenAPI.
 * `@Body(new ZodBodyPipe(schema))` validates only.
 */
import { createParamDecorator, type ExecutionContext, type PipeTransform } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import type { Request } from 'express';
import type { z } from 'zod';
import { LedgerError } from '../ledger-error.js';
import { zodToOpenApiSchema } from './zod-openapi.js';

export interface FieldError {
  /** RFC 6901 JSON Pointer into the body (`""` is the body itself), e.g. `/answer/confidence`. */
  path: string;
  message: string;
}

/** A client rarely needs more than the first hundred problems; the cap bounds the error document. */
const MAX_ERRORS = 100;

function pointer(path: readonly PropertyKey[]): string {
  return path.map((part) => '/' + String(part).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

function toFieldErrors(error: z.ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // One entry per unknown field, pointing at the field itself, is what a client can act on.
      for (const key of issue.keys) out.push({ path: pointer([...issue.path, key]), message: 'Unknown field.' });
    } else {
      out.push({ path: pointer(issue.path), message: issue.message });
    }
  }
  return out;
}

export function validationFailed(errors: FieldError[]): LedgerError {
  const shown = errors.slice(0, MAX_ERRORS);
  const more = errors.length > shown.length ? ` (first ${shown.length} of ${errors.length} shown)` : '';
  return new LedgerError('REQUEST.VALIDATION_FAILED', 'bad_request', `The request body is invalid${more}.`, { errors: shown });
}

// Minimal structural view of zod's internal definition, enough to walk a schema.
interface ZodDefView {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  options?: readonly z.ZodType[];
  innerType?: z.ZodType;
  in?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  valueType?: z.ZodType;
  items?: readonly z.ZodType[];
  rest?: z.ZodType | null;
}

function defOf(schema: z.ZodType): ZodDefView {
  return (schema as unknown as { _zod: { def: ZodDefView } })._zod.def;
}

/**
 * Paths (JSON Pointers) of the object schemas in `schema` that would accept unknown fields. Walks the usual
 * wrappers; `z.lazy` is not entered (recursive schemas), so check its target where it is defined.
 */
export function nonStrictObjectPaths(schema: z.ZodType): string[] {
  const found: string[] = [];
  const seen = new Set<z.ZodType>();
  const walk = (node: z.ZodType | null | undefined, path: string): void => {
    if (!node || seen.has(node)) return;
    seen.add(node);
    const def = defOf(node);
    switch (def.type) {
      case 'object':
        if (!def.catchall || defOf(def.catchall).type !== 'never') found.push(path);
        for (const [key, child] of Object.entries(def.shape ?? {})) walk(child, `${path}/${key}`);
        return;
      case 'array':
        return walk(def.element, `${path}/*`);
      case 'union':
        return def.options?.forEach((option) => walk(option, path));
      case 'intersection':
        walk(def.left, path);
        return walk(def.right, path);
      case 'record':
        return walk(def.valueType, `${path}/*`);
      case 'tuple':
        def.items?.forEach((item, i) => walk(item, `${path}/${i}`));
        return walk(def.rest, `${path}/*`);
      case 'pipe':
        return walk(def.in, path);
      default:
        // optional, nullable, default, prefault, readonly, catch, nonoptional, ... wrap `innerType`
        return walk(def.innerType, path);
    }
  };
  walk(schema, '');
  return found;
}

/** Throws at start-up (decoration time) when a body schema would silently accept unknown fields. */
export function assertStrictSchema(schema: z.ZodType): void {
  const loose = nonStrictObjectPaths(schema);
  if (loose.length > 0) {
    throw new Error(`Body schema accepts unknown fields at ${loose.map((p) => p || '(root)').join(', ')}: use z.strictObject() or .strict()`);
  }
}

/** Validates a parsed JSON body; returns zod's output (defaults applied) or throws REQUEST.VALIDATION_FAILED. */
export function validateBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  // Clearer than zod's "expected object, received undefined" for the two commonest client mistakes.
  if (body === undefined) throw validationFailed([{ path: '', message: 'A JSON request body is required.' }]);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw validationFailed([{ path: '', message: 'The request body must be a JSON object.' }]);
  }
  const result = schema.safeParse(body);
  if (!result.success) throw validationFailed(toFieldErrors(result.error));
  return result.data;
}

export class ZodBodyPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {
    assertStrictSchema(schema);
  }

  transform(value: unknown): z.output<S> {
    return validateBody(this.schema, value);
  }
}

/** Whether the request carries a body on the wire (same rule as `type-is`'s `hasBody`, minus empty ones). */
function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The validated JSON body: `@ZodBody(schema) body: z.infer<typeof schema>`. Also documents the body in
 * OpenAPI. Checks, in order: a body that is not `application/json` -> 415 REQUEST.UNSUPPORTED_MEDIA_TYPE; then
 * the schema -> 400 REQUEST.VALIDATION_FAILED.
 */
export function ZodBody(schema: z.ZodType): ParameterDecorator {
  assertStrictSchema(schema);
  // The schema is captured here, not passed as decorator data: Nest treats data with a `transform` method
  // (every zod schema has one) as a pipe, and `{ schema }` as its own Standard Schema options.
  const param = createParamDecorator((_data: unknown, context: ExecutionContext) => {
    const request = context.switchToHttp().getRequest<Request>();
    // Form or text bodies are not parsed into JSON; answering 415 beats a misleading "body required".
    if (hasBody(request) && !request.is('application/json')) {
      throw new LedgerError('REQUEST.UNSUPPORTED_MEDIA_TYPE', 'unsupported_media_type', 'The request body must be sent as application/json.');
    }
    return validateBody(schema, request.body);
  })();
  const openApi = ApiBody({ schema: zodToOpenApiSchema(schema), required: true });
  return (target, propertyKey, index) => {
    param(target, propertyKey, index);
    if (propertyKey !== undefined) {
      const descriptor = Object.getOwnPropertyDescriptor(target, propertyKey);
      if (descriptor) openApi(target, propertyKey, descriptor);
    }
  };
}
