import { describe, expect, it } from '@jest/globals';
import { BadRequestException, ForbiddenException, HttpException, NotFoundException, PayloadTooLargeException, ServiceUnavailableException } from '@nestjs/common';
import { LedgerError } from '../ledger-error.js';
import { describeError, problemTitle, problemTypeUri, toProblemDocument } from './problem-details.js';

const matched = { routeMatched: true };

/** What body-parser throws: an http-errors error with a `type`, wrapped by Nest's Express adapter. */
function parserError(type: string, status: number, message = 'boom'): HttpException {
  const cause = Object.assign(new Error(message), { type, status, statusCode: status, expose: true });
  return new HttpException(message, status, { cause });
}

describe('problem documents', () => {
  it('derives type URIs and titles from codes', () => {
    expect(problemTypeUri('REQUEST.MALFORMED_JSON')).toBe('https://ida-ledger.dev/problems/request/malformed_json');
    expect(problemTypeUri('LEDGER.REVISION_CONFLICT')).toBe('https://ida-ledger.dev/problems/ledger/revision_conflict');
    expect(problemTitle('LEDGER.REVISION_CONFLICT', 409)).toBe('Revision conflict');
    expect(problemTitle('AUTH.UNAUTHENTICATED', 401)).toBe('Authentication required');
  });

  it('renders a LedgerError with its details, which cannot overwrite standard members', () => {
    const error = new LedgerError('LEDGER.REVISION_CONFLICT', 'conflict', 'Stream query-1 is at revision 4, not 3.', {
      expectedRevision: 3,
      actualRevision: 4,
      status: 200,
      code: 'FAKE',
    });
    expect(toProblemDocument(describeError(error, matched), '/v1/queries/1')).toEqual({
      type: 'https://ida-ledger.dev/problems/ledger/revision_conflict',
      title: 'Revision conflict',
      status: 409,
      detail: 'Stream query-1 is at revision 4, not 3.',
      code: 'LEDGER.REVISION_CONFLICT',
      instance: '/v1/queries/1',
      expectedRevision: 3,
      actualRevision: 4,
    });
  });

  it('hides internal LedgerErrors and unknown errors behind INTERNAL.UNEXPECTED', () => {
    for (const error of [new LedgerError('STORE.CORRUPT', 'internal', '/data/ledger.db page 7', { file: '/data' }), new TypeError('x is undefined'), 'a string', undefined]) {
      const problem = describeError(error, matched);
      expect(problem).toMatchObject({ status: 500, code: 'INTERNAL.UNEXPECTED', details: {}, serverFault: true });
      expect(problem.detail).not.toMatch(/data|undefined/);
    }
  });

  it('keeps an unavailable LedgerError as 503 and flags it for logging', () => {
    expect(describeError(new LedgerError('STORE.UNAVAILABLE', 'unavailable', 'EventStoreDB unreachable'), matched)).toMatchObject({ status: 503, serverFault: true });
  });

  it('maps body-parser errors to stable codes without quoting the body', () => {
    const parse = describeError(parserError('entity.parse.failed', 400, 'Unexpected token s in JSON: "secret"'), matched);
    expect(parse).toMatchObject({ status: 400, code: 'REQUEST.MALFORMED_JSON' });
    expect(parse.detail).not.toContain('secret');
    expect(describeError(parserError('entity.too.large', 413), matched)).toMatchObject({ status: 413, code: 'REQUEST.BODY_TOO_LARGE' });
    expect(describeError(parserError('charset.unsupported', 415), matched)).toMatchObject({ status: 415, code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE' });
    expect(describeError(parserError('request.aborted', 400), matched)).toMatchObject({ status: 400, code: 'REQUEST.MALFORMED_BODY' });
    expect(describeError(new BadRequestException('bad %', { cause: new URIError('URI malformed') }), matched)).toMatchObject({ code: 'REQUEST.MALFORMED_URI' });
  });

  it('tells an unknown route from a handler-thrown NotFoundException', () => {
    expect(describeError(new NotFoundException('Cannot GET /nope'), { routeMatched: false })).toMatchObject({ status: 404, code: 'REQUEST.ROUTE_NOT_FOUND' });
    expect(describeError(new NotFoundException('no such proxy'), matched)).toMatchObject({ status: 404, code: 'REQUEST.NOT_FOUND', detail: 'no such proxy' });
  });

  it('gives other HttpExceptions status-based codes', () => {
    expect(describeError(new ForbiddenException(), matched)).toMatchObject({ status: 403, code: 'AUTH.FORBIDDEN' });
    expect(describeError(new PayloadTooLargeException(), matched)).toMatchObject({ status: 413, code: 'REQUEST.BODY_TOO_LARGE' });
    expect(describeError(new HttpException('teapot', 418), matched)).toMatchObject({ status: 418, code: 'REQUEST.HTTP_418' });
    expect(describeError(new ServiceUnavailableException(), matched)).toMatchObject({ status: 503, code: 'SERVICE.UNAVAILABLE' });
    expect(describeError(new HttpException('db down at 10.0.0.5', 502), matched)).toMatchObject({ status: 500, code: 'INTERNAL.UNEXPECTED' });
  });
});
