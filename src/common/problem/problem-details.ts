/**
 * RFC 9457 problem documents: the one error shape of the HTTP API (DESIGN §8). This file is the pure
 * mapping (error -> status, stable code, title, detail); `problem-details.filter.ts` writes it to the wire.
 */
import { STATUS_CODES } from 'node:http';
import { HttpException, NotFoundException } from '@nestjs/common';
import { isLedgerError } from '../ledger-error.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://ida-ledger.dev/problems/';

/** The wire document. Extra members come from `LedgerError.details`. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  [extension: string]: unknown;
}

/** What the filter needs to answer one error. */
export interface ProblemDescription {
  status: number;
  code: string;
  detail: string;
  /** Extension members (already stripped of the reserved ones). */
  details: Record<string, unknown>;
  /** Server faults are logged with their stack; client errors are not (they are the client's business). */
  serverFault: boolean;
}

/** Codes for errors that do not come from our own `LedgerError`s. Stable: clients match on them. */
export const REQUEST_CODES = {
  MALFORMED_JSON: 'REQUEST.MALFORMED_JSON',
  MALFORMED_BODY: 'REQUEST.MALFORMED_BODY',
  MALFORMED_URI: 'REQUEST.MALFORMED_URI',
  BODY_TOO_LARGE: 'REQUEST.BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
  ROUTE_NOT_FOUND: 'REQUEST.ROUTE_NOT_FOUND',
  NOT_FOUND: 'REQUEST.NOT_FOUND',
  VALIDATION_FAILED: 'REQUEST.VALIDATION_FAILED',
  INTERNAL_UNEXPECTED: 'INTERNAL.UNEXPECTED',
  SERVICE_UNAVAILABLE: 'SERVICE.UNAVAILABLE',
} as const;

/** Hand-written titles where the code alone reads badly; other codes get a title derived from the code. */
const TITLES: Record<string, string> = {
  'REQUEST.MALFORMED_JSON': 'Malformed JSON body',
  'REQUEST.MALFORMED_URI': 'Malformed request URI',
  'REQUEST.BODY_TOO_LARGE': 'Request body too large',
  'REQUEST.ROUTE_NOT_FOUND': 'No such route',
  'REQUEST.INVALID_IF_MATCH': 'Invalid If-Match header',
  'REQUEST.INVALID_IDEMPOTENCY_KEY': 'Invalid Idempotency-Key header',
  'AUTH.UNAUTHENTICATED': 'Authentication required',
  'AUTH.FORBIDDEN_ROLE': 'Role not permitted',
  'AUTH.TENANT_FORBIDDEN': 'Tenant not permitted',
  'INTERNAL.UNEXPECTED': 'Internal server error',
};

/** Members of the problem document that `details` must not overwrite (a detail named `status` would lie). */
const RESERVED = new Set(['type', 'title', 'status', 'detail', 'code', 'instance']);

/** `REQUEST.MALFORMED_JSON` -> `https://ida-ledger.dev/problems/request/malformed_json`. */
export function problemTypeUri(code: string): string {
  return PROBLEM_TYPE_BASE + code.toLowerCase().replaceAll('.', '/');
}

/**
 * A title is per problem *type*, not per occurrence (RFC 9457 §3.1.3), so it depends on the code only:
 * `LEDGER.REVISION_CONFLICT` -> "Revision conflict".
 */
export function problemTitle(code: string, status: number): string {
  const known = TITLES[code];
  if (known) return known;
  const last = code.split('.').pop() ?? '';
  const words = last.toLowerCase().replaceAll('_', ' ').trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : (STATUS_CODES[status] ?? 'Error');
}

/**
 * The `type` of a body-parser (http-errors) error, e.g. `entity.parse.failed`, `entity.too.large`. The Express
 * adapter of Nest wraps these in an HttpException whose `cause` is the original, so both places are looked at.
 */
function bodyParserType(exception: unknown): string | undefined {
  for (const candidate of [exception, exception instanceof Error ? exception.cause : undefined]) {
    if (candidate instanceof Error) {
      const type = (candidate as { type?: unknown }).type;
      if (typeof type === 'string' && /^(entity|request|encoding|charset|parameters|stream)\./u.test(type)) return type;
    }
  }
  return undefined;
}

function isUriError(exception: unknown): boolean {
  return exception instanceof URIError || (exception instanceof Error && exception.cause instanceof URIError);
}

function safeDetails(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([key]) => !RESERVED.has(key)));
}

function clientError(status: number, code: string, detail: string): ProblemDescription {
  return { status, code, detail, details: {}, serverFault: false };
}

const UNEXPECTED: ProblemDescription = {
  status: 500,
  code: REQUEST_CODES.INTERNAL_UNEXPECTED,
  detail: 'An unexpected error occurred; it has been logged.',
  details: {},
  serverFault: true,
};

/** Stable codes for the 4xx HttpExceptions Nest or a library may throw. */
const HTTP_STATUS_CODES: Record<number, string> = {
  400: 'REQUEST.BAD_REQUEST',
  401: 'AUTH.UNAUTHENTICATED',
  403: 'AUTH.FORBIDDEN',
  404: REQUEST_CODES.NOT_FOUND,
  405: 'REQUEST.METHOD_NOT_ALLOWED',
  406: 'REQUEST.NOT_ACCEPTABLE',
  408: 'REQUEST.TIMEOUT',
  409: 'REQUEST.CONFLICT',
  412: 'REQUEST.PRECONDITION_FAILED',
  413: REQUEST_CODES.BODY_TOO_LARGE,
  415: REQUEST_CODES.UNSUPPORTED_MEDIA_TYPE,
  422: 'REQUEST.UNPROCESSABLE',
  429: 'REQUEST.TOO_MANY_REQUESTS',
};

/**
 * Maps any thrown value to a problem. `routeMatched` is whether the request reached a handler: a
 * NotFoundException without a matched route is Nest's "no such route", one thrown by a handler is not.
 */
export function describeError(exception: unknown, context: { routeMatched: boolean }): ProblemDescription {
  if (isLedgerError(exception)) {
    // An internal LedgerError may carry file paths or store details in its message: log it, say nothing.
    if (exception.status === 500) return UNEXPECTED;
    return {
      status: exception.status,
      code: exception.code,
      detail: exception.message,
      details: safeDetails(exception.details),
      serverFault: exception.status >= 500,
    };
  }

  const parserType = bodyParserType(exception);
  if (parserType) {
    switch (parserType) {
      // The parser's message quotes a piece of the body, which may hold secrets: give a fixed detail.
      case 'entity.parse.failed':
        return clientError(400, REQUEST_CODES.MALFORMED_JSON, 'The request body is not valid JSON.');
      case 'entity.too.large':
      case 'parameters.too.many':
        return clientError(413, REQUEST_CODES.BODY_TOO_LARGE, 'The request body exceeds the size limit.');
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return clientError(415, REQUEST_CODES.UNSUPPORTED_MEDIA_TYPE, 'The request body encoding or charset is not supported.');
      case 'request.aborted':
      case 'request.size.invalid':
        return clientError(400, REQUEST_CODES.MALFORMED_BODY, 'The request body was incomplete or its length was wrong.');
      default:
        return UNEXPECTED; // stream.* and unknown parser states are server-side faults
    }
  }

  if (isUriError(exception)) {
    return clientError(400, REQUEST_CODES.MALFORMED_URI, 'The request URI contains an invalid percent-encoding.');
  }

  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (exception instanceof NotFoundException && !context.routeMatched) {
      return clientError(404, REQUEST_CODES.ROUTE_NOT_FOUND, 'No route matches this method and path.');
    }
    if (status === 503) {
      return { ...clientError(503, REQUEST_CODES.SERVICE_UNAVAILABLE, 'The service is temporarily unavailable.'), serverFault: true };
    }
    if (status >= 400 && status < 500) {
      // 4xx HttpException messages are written for clients (the Express adapter already replaced those
      // that must not be exposed with the status text).
      return clientError(status, HTTP_STATUS_CODES[status] ?? `REQUEST.HTTP_${status}`, exception.message);
    }
  }

  return UNEXPECTED;
}

export function toProblemDocument(problem: ProblemDescription, instance: string): ProblemDocument {
  return {
    type: problemTypeUri(problem.code),
    title: problemTitle(problem.code, problem.status),
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    instance,
    ...problem.details,
  };
}
