import { LedgerError } from './ledger-error.js';

/**
 * Compile-time exhaustiveness check for a `switch` over a union; throws (internal, with the context's `code`,
 * e.g. `PROXY.UNREACHABLE`) if an unexpected value slips through at run time.
 */
export function assertNever(value: never, code: string): never {
  throw new LedgerError(code, 'internal', `Unexpected value: ${JSON.stringify(value)}`);
}
