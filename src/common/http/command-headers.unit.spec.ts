import { describe, expect, it } from '@jest/globals';
import { LedgerError } from '../ledger-error.js';
import { parseIdempotencyKey, parseIfMatch } from './command-headers.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerError);
    expect((error as LedgerError).status).toBe(400);
    return (error as LedgerError).code;
  }
}

describe('parseIfMatch', () => {
  it('is undefined when absent', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
  });

  it.each([
    ['"0"', 0],
    ['"3"', 3],
    ['"12345"', 12345],
    ['7', 7],
    ['0', 0],
    [' "4" ', 4],
    [['"5"'], 5],
    [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  ])('accepts %j', (value, expected) => {
    expect(parseIfMatch(value)).toBe(expected);
  });

  it.each([
    '',
    '*',
    'W/"3"',
    '"3", "4"',
    '"-1"',
    '-1',
    '"03"',
    '1.5',
    '"abc"',
    '"3',
    "'3'",
    '0x10',
    '1e3',
    '9007199254740992', // beyond safe integers
    ['"1"', '"2"'],
  ])('rejects %j with REQUEST.INVALID_IF_MATCH', (value) => {
    expect(codeOf(() => parseIfMatch(value))).toBe('REQUEST.INVALID_IF_MATCH');
  });
});

describe('parseIdempotencyKey', () => {
  it('is undefined when absent', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it.each(['a', 'cmd-2025-01-01:42', 'A.b_c:d-e', '0190f1d2-7c3e-7a00-8000-000000000001', 'x'.repeat(200)])('accepts %j', (value) => {
    expect(parseIdempotencyKey(value)).toBe(value);
  });

  it.each(['', 'x'.repeat(201), 'has space', ' lead', 'slash/no', 'ümlaut', 'semi;colon', 'a,b', ['a', 'b']])(
    'rejects %j with REQUEST.INVALID_IDEMPOTENCY_KEY',
    (value) => {
      expect(codeOf(() => parseIdempotencyKey(value))).toBe('REQUEST.INVALID_IDEMPOTENCY_KEY');
    },
  );
});
