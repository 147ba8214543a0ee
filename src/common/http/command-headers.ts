/**
 * The headers every command carries (DESIGN §4): `If-Match` (the expected stream revision, so a stale writer
 * gets a conflict instead of overwriting), `Idempotency-Key` (the client command id, so a retried command
 * appends nothing twice) and `X-Correlation-Id` (recorded in the meta of the command's entries).
 */
import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader, type ApiHeaderOptions } from '@nestjs/swagger';
import type { Request } from 'express';
import { LedgerError } from '../ledger-error.js';

type HeaderValue = string | readonly string[] | undefined;

/** `"12"` (strong ETag) or `12`; a revision is 0-based, canonical decimal, a safe integer. */
const IF_MATCH = /^(?:"(0|[1-9][0-9]*)"|(0|[1-9][0-9]*))$/u;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,200}$/u;

/** Node joins repeated request headers into one value, but a caller may hand us the raw array. */
function single(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return value.length === 1 ? value[0] : value.join(', ');
}

function badHeader(code: string, detail: string): LedgerError {
  return new LedgerError(code, 'bad_request', detail);
}

/**
 * `If-Match` -> expected revision, or `undefined` when absent. Rejected (400 REQUEST.INVALID_IF_MATCH): weak
 * ETags (`W/"3"`; a precondition on writes needs strong comparison), `*`, lists, and anything not a revision.
 * The value is not echoed back: the detail says what is expected instead.
 */
export function parseIfMatch(value: HeaderValue): number | undefined {
  const raw = single(value);
  if (raw === undefined) return undefined;
  const match = IF_MATCH.exec(raw.trim());
  const revision = match ? Number(match[1] ?? match[2]) : NaN;
  if (!Number.isSafeInteger(revision)) {
    throw badHeader(
      'REQUEST.INVALID_IF_MATCH',
      'If-Match must be one strong ETag of a stream revision, e.g. "3" (quotes included), or a bare revision number.',
    );
  }
  return revision;
}

/** `Idempotency-Key` -> client command id, or `undefined` when absent (400 REQUEST.INVALID_IDEMPOTENCY_KEY). */
export function parseIdempotencyKey(value: HeaderValue): string | undefined {
  const raw = single(value);
  if (raw === undefined) return undefined;
  // No trimming: the key is an identifier, and " k" and "k" must not silently become the same command.
  if (!IDEMPOTENCY_KEY.test(raw)) {
    throw badHeader(
      'REQUEST.INVALID_IDEMPOTENCY_KEY',
      'Idempotency-Key must be 1 to 200 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-".',
    );
  }
  return raw;
}

export const CORRELATION_ID_HEADER = 'X-Correlation-Id';

/** Same alphabet and bound as an Idempotency-Key: safe in logs, meta and headers. */
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,200}$/u;

/** A valid `X-Correlation-Id`, or undefined (absent or invalid: the command then generates one). Never refused. */
export function parseCorrelationId(value: HeaderValue): string | undefined {
  const raw = typeof value === 'string' ? value : value?.length === 1 ? value[0] : undefined;
  return raw !== undefined && CORRELATION_ID.test(raw) ? raw : undefined;
}

/** The command headers of one request, parsed. */
export interface CommandHeaders {
  expectedRevision?: number | undefined;
  idempotencyKey?: string | undefined;
  correlationId?: string | undefined;
}

/** Whether a route reads `If-Match`: not one that creates its stream (there is no revision to match yet). */
export interface CommandHeaderOptions {
  ifMatch: boolean;
}

/**
 * Parses the command headers. A malformed `Idempotency-Key` is refused before a malformed `If-Match` (both 400);
 * an invalid `X-Correlation-Id` is ignored. Without `ifMatch`, `If-Match` is not read at all.
 */
export function readCommandHeaders(request: Request, { ifMatch }: CommandHeaderOptions): CommandHeaders {
  const { headers } = request;
  const idempotencyKey = parseIdempotencyKey(headers['idempotency-key']);
  const expectedRevision = ifMatch ? parseIfMatch(headers['if-match']) : undefined;
  return { expectedRevision, idempotencyKey, correlationId: parseCorrelationId(headers['x-correlation-id']) };
}

const IF_MATCH_DOC: ApiHeaderOptions = {
  name: 'If-Match',
  required: false,
  description: 'Expected stream revision as a strong ETag, e.g. "3".',
};
const IDEMPOTENCY_KEY_DOC: ApiHeaderOptions = {
  name: 'Idempotency-Key',
  required: false,
  description: 'Client command id ([A-Za-z0-9._:-]{1,200}); a retry with the same key appends nothing twice.',
};
const CORRELATION_ID_DOC: ApiHeaderOptions = {
  name: CORRELATION_ID_HEADER,
  required: false,
  description: 'Recorded in the meta of every entry of this command ([A-Za-z0-9._:-]{1,200}; otherwise a new id is used).',
};

/** OpenAPI: the command headers a route reads (see `readCommandHeaders`). */
export function ApiCommandHeaders({ ifMatch }: CommandHeaderOptions): MethodDecorator {
  const documented = ifMatch ? [CORRELATION_ID_DOC, IDEMPOTENCY_KEY_DOC, IF_MATCH_DOC] : [CORRELATION_ID_DOC, IDEMPOTENCY_KEY_DOC];
  return applyDecorators(...documented.map((options) => ApiHeader(options)));
}

const ifMatchParam = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  parseIfMatch(context.switchToHttp().getRequest<Request>().headers['if-match']),
);

const idempotencyKeyParam = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  parseIdempotencyKey(context.switchToHttp().getRequest<Request>().headers['idempotency-key']),
);

/**
 * Applies an OpenAPI method decorator from a parameter decorator (param decorators cannot return one), so a
 * parameter that reads a header or body also documents it.
 */
export function withOpenApi(param: ParameterDecorator, method: MethodDecorator): ParameterDecorator {
  return (target, propertyKey, index) => {
    param(target, propertyKey, index);
    if (propertyKey === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, propertyKey);
    if (descriptor) method(target, propertyKey, descriptor);
  };
}

/** `@IfMatch() expectedRevision: number | undefined` */
export function IfMatch(): ParameterDecorator {
  return withOpenApi(ifMatchParam(), ApiHeader(IF_MATCH_DOC));
}

/** `@IdempotencyKey() commandId: string | undefined` */
export function IdempotencyKey(): ParameterDecorator {
  return withOpenApi(idempotencyKeyParam(), ApiHeader(IDEMPOTENCY_KEY_DOC));
}
