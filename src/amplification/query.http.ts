/**
 * HTTP pieces shared by the amplification controllers: the command envelope (caller and command headers), the
 * optional JSON body of `complete`, the response headers of a command (ETag, correlation id, replay marker) and
 * the OpenAPI description of the problem documents each route may answer.
 */
import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiResponse, type SchemaObject } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { principalOf } from '../auth/authenticated-request.js';
import {
  ApiCommandHeaders,
  CORRELATION_ID_HEADER,
  readCommandHeaders,
  withOpenApi,
  type CommandHeaderOptions,
} from '../common/http/command-headers.js';
import { HTTP_STATUS, LedgerError, type ErrorCategory } from '../common/ledger-error.js';
import { PROBLEM_CONTENT_TYPE } from '../common/problem/problem-details.js';
import { assertStrictSchema, validateBody } from '../common/validation/zod-body.pipe.js';
import { zodToOpenApiSchema } from '../common/validation/zod-openapi.js';
import { QUERY_REFUSALS } from './query.guards.js';
import type { CommandEnvelope, CommandOutcome, QueryCommandResponse } from './query-command.runner.js';

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

function hasBody(request: Request): boolean {
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
export function reply<R extends QueryCommandResponse>(response: Response, outcome: CommandOutcome<R>): R {
  response.setHeader('ETag', etagOf(outcome.body.revision));
  response.setHeader(CORRELATION_ID_HEADER, outcome.correlationId);
  if (outcome.replayed) response.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
  response.setHeader('Cache-Control', 'no-store');
  return outcome.body;
}

// ---------------------------------------------------------------------------------------------------------
// OpenAPI

/** Codes the HTTP layer itself may answer, besides the deciders' refusals. */
const LAYER_CODES = {
  'REQUEST.MALFORMED_JSON': 'bad_request',
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

/** Every documented code with its category; within one status, codes are listed in this order. */
const ALL_CODES: Record<string, ErrorCategory> = { ...QUERY_REFUSALS, ...LAYER_CODES };
const CODE_ORDER = Object.keys(ALL_CODES);

export type DocumentedCode = keyof typeof LAYER_CODES | keyof typeof QUERY_REFUSALS;

/** Refusals of every command on an existing query: headers, body, tenant, existence, stopped, concurrency. */
export const QUERY_COMMAND_PROBLEMS = [
  'REQUEST.VALIDATION_FAILED',
  'REQUEST.INVALID_IF_MATCH',
  'REQUEST.INVALID_IDEMPOTENCY_KEY',
  'REQUEST.IDEMPOTENCY_KEY_REUSED',
  'AUTH.TENANT_FORBIDDEN',
  'QUERY.NOT_FOUND',
  'QUERY.STOPPED',
  'LEDGER.CONCURRENT_MODIFICATION',
  'LEDGER.REVISION_CONFLICT',
] as const satisfies readonly DocumentedCode[];

/** ... and of every command on one node of it (which also checks the node id and the command's fields). */
export const NODE_COMMAND_PROBLEMS = [
  ...QUERY_COMMAND_PROBLEMS,
  'QUERY.NODE_NOT_FOUND',
  'QUERY.INVALID_COMMAND',
] as const satisfies readonly DocumentedCode[];

const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code', 'instance'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: 'Stable machine-readable code, e.g. QUERY.NOT_FOUND' },
    instance: { type: 'string' },
  },
  additionalProperties: true,
};

/**
 * One `@ApiResponse` per status, each listing its stable `code`s (in `ALL_CODES` order, whatever the order
 * given), as `application/problem+json`. Every route may also answer malformed JSON, 401 and a forbidden role.
 */
export function ApiProblems(...codes: DocumentedCode[]): MethodDecorator {
  const listed = new Set<string>(['REQUEST.MALFORMED_JSON', 'AUTH.UNAUTHENTICATED', 'AUTH.FORBIDDEN_ROLE', ...codes]);
  const byStatus = new Map<number, string[]>();
  for (const code of CODE_ORDER.filter((known) => listed.has(known))) {
    const status = HTTP_STATUS[ALL_CODES[code]!];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ...[...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) =>
        ApiResponse({
          status,
          description: `application/problem+json; code: ${list.join(', ')}`,
          content: { [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_SCHEMA } },
        }),
      ),
  );
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
