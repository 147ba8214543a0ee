import { describe, expect, it } from '@jest/globals';
import type { Request } from 'express';
import { LedgerError } from '../ledger-error.js';
import { readCommandHeaders } from './command-headers.js';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as Request;

const refusalOf = (headers: Record<string, string>): unknown => {
  try {
    return readCommandHeaders(request(headers), { ifMatch: true });
  } catch (error) {
    return error;
  }
};

describe('readCommandHeaders', () => {
  it('reads all three headers', () => {
    const headers = { 'if-match': '"3"', 'idempotency-key': 'k-1', 'x-correlation-id': 'c-1' };
    expect(readCommandHeaders(request(headers), { ifMatch: true })).toEqual({ expectedRevision: 3, idempotencyKey: 'k-1', correlationId: 'c-1' });
  });

  it('ignores If-Match when the route takes none, and an invalid correlation id always', () => {
    const headers = { 'if-match': 'garbage', 'x-correlation-id': 'has space' };
    expect(readCommandHeaders(request(headers), { ifMatch: false })).toEqual({
      expectedRevision: undefined,
      idempotencyKey: undefined,
      correlationId: undefined,
    });
  });

  it('refuses a malformed Idempotency-Key before a malformed If-Match', () => {
    const both = refusalOf({ 'if-match': 'W/"1"', 'idempotency-key': 'bad key' });
    expect(both).toBeInstanceOf(LedgerError);
    expect(both).toMatchObject({ code: 'REQUEST.INVALID_IDEMPOTENCY_KEY', status: 400 });
    expect(refusalOf({ 'if-match': 'W/"1"' })).toMatchObject({ code: 'REQUEST.INVALID_IF_MATCH', status: 400 });
  });
});
