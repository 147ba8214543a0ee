/**
 * HTTP pieces shared by every command controller, whatever its bounded context: the command envelope (caller
 * and command headers), the optional JSON body, the response headers of a command (ETag, correlation id,
 * replay marker) and the OpenAPI description of command and read responses and of the problem documents a
 * route may answer (`apiProblemsFor` binds the codes of one context).
 */
import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiResponse, type SchemaObject } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { principalOf } from '../../auth/authenticated-request.js';
import type { CommandEnvelope, StreamCommandOutcome } from '../commands/stream-command.runner.js';
import { HTTP_STATUS, LedgerError, type ErrorCategory } from '../ledger-error.js';
import { PROBLEM_CONTENT_TYPE } from '../problem/problem-details.js';
import { assertStrictSchema, validateBody } from '../validation/zod-body.pipe.js';
import { zodToOpenApiSchema } from '../validation/zod-openapi.js';
import {
  ApiCommandHeaders,
  CORRELATION_ID_HEADER,
  readCommandHeaders,
  withOpenApi,
  type CommandHeaderOptions,
} from './command-headers.js';

/** Set (to `true`) on a response that was rebuilt from an earlier command with the same Idempotency-Key. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

const envelopeParam = createParamDecorator((options: CommandHeaderOptions, context: ExecutionContext): CommandEnvelope => {
  const request = context.switchToHttp().getRequest<Request>();
  const principal = principalOf(request);
  // Only reachable on a @Public route: a programming error, so a logged 500 rather than a 401 (as @CurrentPrincipal).
  if (!principal) throw new LedgerError('INTERNAL.NO_PRINCIPAL', 'internal', '@Envelope() used on a route without authentication');
  return { principal, ...readCommandHeaders(request, options) };
});

/**
 * `@Envelope() envelope: CommandEnvelope`: the caller and the command headers (`If-Match`, `Idempotency-Key`,
 * `X-Correlation-Id`; 400 on a malformed If-Match or key), and their OpenAPI description.
 * `@Envelope({ ifMatch: false })` for a command that creates its stream: it has no revision to match.
 */
export function Envelope(options: CommandHeaderOptions = { ifMatch: true }): ParameterDecorator {
  return withOpenApi(envelopeParam(options), ApiCommandHeaders(options));
}

/** True when the request carries a body (a length other than 0, or a chunked one). */
export function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Like `@ZodBody(schema)`, but an absent body counts as `{}` (`POST .../complete` takes no fields). A body that
 * is present must still be JSON (415) and match the strict schema (400).
 */
export function OptionalZodBody(schema: z.ZodType): ParameterDecorator {
  assertStrictSchema(schema);
  const param = createParamDecorator((_data: unknown, context: ExecutionContext) => {
    const request = context.switchToHttp().getRequest<Request>();
    if (!hasBody(request)) return validateBody(schema, {});
    if (!request.is('application/json')) {
      throw new LedgerError('REQUEST.UNSUPPORTED_MEDIA_TYPE', 'unsupported_media_type', 'The request body must be sent as application/json.');
    }
    return validateBody(schema, request.body ?? {});
  })();
  return withOpenApi(param, ApiBody({ schema: zodToOpenApiSchema(schema), required: false }));
}

/** A strong ETag of a stream revision: `"3"`. */
export function etagOf(revision: number): string {
  return `"${revision}"`;
}

/** Writes the command's headers and returns the body for Nest to serialise. */
export function reply<R extends { revision: number }>(response: Response, outcome: StreamCommandOutcome<R>): R {
  response.setHeader('ETag', etagOf(outcome.body.revision));
  response.setHeader(CORRELATION_ID_HEADER, outcome.correlationId);
  if (outcome.replayed) response.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
  response.setHeader('Cache-Control', 'no-store');
  return outcome.body;
}

/** Codes the HTTP layer itself may answer, besides the deciders' refusals. */
export const LAYER_CODES = {
  'REQUEST.MALFORMED_JSON': 'bad_request',
  'REQUEST.MALFORMED_BODY': 'bad_request',
  'REQUEST.VALIDATION_FAILED': 'bad_request',
  'REQUEST.INVALID_IF_MATCH': 'bad_request',
  'REQUEST.INVALID_IDEMPOTENCY_KEY': 'bad_request',
  'AUTH.UNAUTHENTICATED': 'unauthenticated',
  'AUTH.FORBIDDEN_ROLE': 'forbidden',
  'AUTH.TENANT_FORBIDDEN': 'forbidden',
  'LEDGER.CONCURRENT_MODIFICATION': 'conflict',
  'LEDGER.REVISION_CONFLICT': 'precondition_failed',
  'REQUEST.BODY_TOO_LARGE': 'payload_too_large',
  'REQUEST.UNSUPPORTED_MEDIA_TYPE': 'unsupported_media_type',
  'REQUEST.IDEMPOTENCY_KEY_REUSED': 'unprocessable',
} as const satisfies Record<string, ErrorCategory>;

/** The problem document's schema; `exampleCode` is the code its `code` property names as an example. */
function problemSchema(exampleCode: string): SchemaObject {
  return {
    type: 'object',
    required: ['type', 'title', 'status', 'detail', 'code', 'instance'],
    properties: {
      type: { type: 'string', format: 'uri' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string', description: `Stable machine-readable code, e.g. ${exampleCode}` },
      instance: { type: 'string' },
    },
    additionalProperties: true,
  };
}

/**
 * `ApiProblems(...codes)` for one context: one `@ApiResponse` per status, each listing its stable `code`s (in
 * the registry's order, whatever the order given), as `application/problem+json`. Every route may also answer
 * malformed JSON, 401 and a forbidden role. `registry` is the context's refusals (its codes come first, then
 * `LAYER_CODES`); `exampleCode` is the example the problem schema shows (by default the one the query and
 * tenant routes have always shown).
 */
export function apiProblemsFor<C extends string>(
  registry: Record<C, ErrorCategory>,
  exampleCode = 'QUERY.NOT_FOUND',
): (...codes: (C | keyof typeof LAYER_CODES)[]) => MethodDecorator {
  const schema = problemSchema(exampleCode);
  const all: Record<string, ErrorCategory> = { ...LAYER_CODES, ...registry };
  const order = [...Object.keys(registry), ...Object.keys(LAYER_CODES).filter((code) => !(code in registry))];
  return (...codes) => {
    const listed = new Set<string>(['REQUEST.MALFORMED_JSON', 'AUTH.UNAUTHENTICATED', 'AUTH.FORBIDDEN_ROLE', ...codes]);
    const byStatus = new Map<number, string[]>();
    for (const code of order.filter((known) => listed.has(known))) {
      const status = HTTP_STATUS[all[code]!];
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    return applyDecorators(
      ...[...byStatus.entries()]
        .sort(([x], [y]) => x - y)
        .map(([status, list]) =>
          ApiResponse({
            status,
            description: `application/problem+json; code: ${list.join(', ')}`,
            content: { [PROBLEM_CONTENT_TYPE]: { schema } },
          }),
        ),
    );
  };
}

/** The success response of a command: its body schema plus the ETag / correlation headers. */
export function ApiCommandResponse(status: 200 | 201, schema: z.ZodType, description: string): MethodDecorator {
  return applyDecorators(
    ApiBearerAuth(),
    ApiResponse({
      status,
      description,
      schema: zodToOpenApiSchema(schema, 'output'),
      headers: {
        ETag: { description: 'Strong ETag of the stream revision after the command, e.g. "3"', schema: { type: 'string' } },
        [CORRELATION_ID_HEADER]: { description: 'Correlation id recorded in the entries', schema: { type: 'string' } },
        [IDEMPOTENT_REPLAYED_HEADER]: {
          description: '"true" when the Idempotency-Key was seen before and the first result is returned',
          schema: { type: 'string' },
        },
      },
    }),
  );
}

/** A read's success response: a JSON view with the stream revision as ETag. */
export function ApiReadResponse(schema: SchemaObject, description: string): MethodDecorator {
  return applyDecorators(
    ApiBearerAuth(),
    ApiResponse({
      status: 200,
      description,
      schema,
      headers: { ETag: { description: 'Strong ETag of the stream revision, e.g. "3"', schema: { type: 'string' } } },
    }),
  );
}
