/** Test helpers around `LedgerError`, shared by every context's test kit. */
import { isLedgerError, type LedgerError } from './ledger-error.js';

/** Runs a decider expected to refuse and returns the LedgerError; a success or a foreign error fails the test. */
export function refusal(decide: () => unknown): LedgerError {
  let result: unknown;
  try {
    result = decide();
  } catch (error) {
    if (isLedgerError(error)) return error;
    throw error;
  }
  throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
}
