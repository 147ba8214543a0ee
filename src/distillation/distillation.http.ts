/**
 * HTTP pieces shared by the distillation controllers (runs, proxies, artifacts): the command envelope (caller
 * and command headers), the response headers of a command (ETag, correlation id, replay marker), and the
 * OpenAPI description of the problem documents each route may answer.
 */
import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, type SchemaObject } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { principalOf } from '../auth/authenticated-request.js';
import type { CommandEnvelope, StreamCommandOutcome } from '../common/commands/stream-command.runner.js';
import {
  ApiCommandHeaders,
  CORRELATION_ID_HEADER,
  readCommandHeaders,
  withOpenApi,
  type CommandHeaderOptions,
} from '../common/http/command-headers.js';
import { HTTP_STATUS, LedgerError, type ErrorCategory } from '../common/ledger-error.js';
import { PROBLEM_CONTENT_TYPE } from '../common/problem/problem-details.js';
import { zodToOpenApiSchema } from '../common/validation/zod-openapi.js';
import { PROXY_REFUSALS } from './proxies/proxy.guards.js';
import { RUN_REFUSALS } from './runs/run.guards.js';

/** Set (to `true`) on a response rebuilt from an earlier command with the same Idempotency-Key. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** Every command response names the stream revision after it (the value for the next `If-Match`). */
export interface RevisionedResponse {
  revision: number;
}

const envelopeParam = createParamDecorator((options: CommandHeaderOptions, context: ExecutionContext): CommandEnvelope => {
  const request = context.switchToHttp().getRequest<Request>();
  const principal = principalOf(request);
  // Only reachable on a @Public route: a programming error, so a logged 500 rather than a 401.
  if (!principal) throw new LedgerError('INTERNAL.NO_PRINCIPAL', 'internal', '@Envelope() used on a route without authentication');
  return { principal, ...readCommandHeaders(request, options) };
});

/**
 * `@Envelope() envelope: CommandEnvelope`: the caller and the command headers, documented in OpenAPI.
 * `@Envelope({ ifMatch: false })` for a command that creates its stream: there is no revision to match.
 */
export function Envelope(options: CommandHeaderOptions = { ifMatch: true }): ParameterDecorator {
  return withOpenApi(envelopeParam(options), ApiCommandHeaders(options));
}

/** A strong ETag of a stream revision: `"3"`. */
export function etagOf(revision: number): string {
  return `"${revision}"`;
}

/** Writes the command's headers and returns the body for Nest to serialise. */
export function reply<R extends RevisionedResponse>(response: Response, outcome: StreamCommandOutcome<R>): R {
  response.setHeader('ETag', etagOf(outcome.body.revision));
  response.setHeader(CORRELATION_ID_HEADER, outcome.correlationId);
  if (outcome.replayed) response.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
  response.setHeader('Cache-Control', 'no-store');
  return outcome.body;
}

// ---------------------------------------------------------------------------------------------------------
// OpenAPI

/** Codes of the artifact store and its routes. */
export const ARTIFACT_CODES = {
  'ARTIFACT.INVALID_DIGEST': 'bad_request',
  'ARTIFACT.EMPTY': 'bad_request',
  'ARTIFACT.INVALID_CONTENT_DIGEST': 'bad_request',
  'ARTIFACT.NOT_FOUND': 'not_found',
  'ARTIFACT.DIGEST_MISMATCH': 'unprocessable',
} as const satisfies Record<string, ErrorCategory>;

/** Codes the HTTP layer itself may answer, besides the deciders' refusals. */
const LAYER_CODES = {
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

const ALL_CODES: Record<string, ErrorCategory> = { ...RUN_REFUSALS, ...PROXY_REFUSALS, ...ARTIFACT_CODES, ...LAYER_CODES };
const CODE_ORDER = Object.keys(ALL_CODES);

export type DocumentedCode =
  | keyof typeof LAYER_CODES
  | keyof typeof RUN_REFUSALS
  | keyof typeof PROXY_REFUSALS
  | keyof typeof ARTIFACT_CODES;

/** Refusals every command may answer: headers, body, tenant, concurrency, idempotency. */
export const COMMAND_PROBLEMS = [
  'REQUEST.VALIDATION_FAILED',
  'REQUEST.BODY_TOO_LARGE',
  'REQUEST.UNSUPPORTED_MEDIA_TYPE',
  'REQUEST.INVALID_IDEMPOTENCY_KEY',
  'REQUEST.IDEMPOTENCY_KEY_REUSED',
  'AUTH.TENANT_FORBIDDEN',
  'LEDGER.CONCURRENT_MODIFICATION',
] as const satisfies readonly DocumentedCode[];

/** ... and every command on an existing stream (If-Match). */
export const UPDATE_PROBLEMS = [...COMMAND_PROBLEMS, 'REQUEST.INVALID_IF_MATCH', 'LEDGER.REVISION_CONFLICT'] as const satisfies readonly DocumentedCode[];

const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code', 'instance'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: 'Stable machine-readable code, e.g. PROXY.GATES_NOT_MET' },
    instance: { type: 'string' },
  },
  additionalProperties: true,
};

/**
 * One `@ApiResponse` per status, each listing its stable `code`s, as `application/problem+json`. Every route
 * may also answer malformed JSON, 401 and a forbidden role.
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

/** A read's success response (a JSON view with the stream revision as ETag). */
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
