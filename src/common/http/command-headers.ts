/**
 * The two headers every command carries (DESIGN §4): `If-Match` (the expected stream revision, so a stale
 * writer gets a conflict instead of overwriting) and `Idempotency-Key` (the client command id, so a retried
 * command appends nothing twice).
 */
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
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
    throw new LedgerError(
      'REQUEST.INVALID_IF_MATCH',
      'bad_request',
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
    throw new LedgerError(
      'REQUEST.INVALID_IDEMPOTENCY_KEY',
      'bad_request',
      'Idempotency-Key must be 1 to 200 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-".',
    );
  }
  return raw;
}

const ifMatchParam = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  parseIfMatch(context.switchToHttp().getRequest<Request>().headers['if-match']),
);

const idempotencyKeyParam = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  parseIdempotencyKey(context.switchToHttp().getRequest<Request>().headers['idempotency-key']),
);

/** Applies an OpenAPI method decorator from a parameter decorator (param decorators cannot return one). */
function withOpenApi(param: ParameterDecorator, method: MethodDecorator): ParameterDecorator {
  return (target, propertyKey, index) => {
    param(target, propertyKey, index);
    if (propertyKey === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, propertyKey);
    if (descriptor) method(target, propertyKey, descriptor);
  };
}

/** `@IfMatch() expectedRevision: number | undefined` */
export function IfMatch(): ParameterDecorator {
  return withOpenApi(
    ifMatchParam(),
    ApiHeader({ name: 'If-Match', required: false, description: 'Expected stream revision as a strong ETag, e.g. "3".' }),
  );
}

/** `@IdempotencyKey() commandId: string | undefined` */
export function IdempotencyKey(): ParameterDecorator {
  return withOpenApi(
    idempotencyKeyParam(),
    ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Client command id ([A-Za-z0-9._:-]{1,200}); a retry with the same key appends nothing twice.' }),
  );
}
