/** Settings of the inference context (from the service configuration; tests use short leases). */
export interface InferenceOptions {
  /** How long a lease (and so its grant, in whole seconds) lasts: `INFERENCE_LEASE_MS`, default 60 000. */
  leaseMs: number;
}

export const INFERENCE_OPTIONS = 'ida-ledger:InferenceOptions';

export const DEFAULT_LEASE_MS = 60_000;
/** The contract's longest long poll. */
export const MAX_LEASE_WAIT_MS = 30_000;
