/**
 * The registered inference workers' keys, as the auth guard needs them (docs/policy-gate.md, "Workers"): a
 * worker authenticates with a short-lived JWT it signs itself, `kid` = its key's RFC 7638 thumbprint. The
 * inference context keeps the directory (rebuilt from `worker-<id>` streams) and provides it under
 * `WORKER_KEY_DIRECTORY`; without a provider, the guard knows no worker keys. Plain TypeScript.
 */
import type { Ed25519PublicJwk } from '../ledger/signing-key.js';

export interface WorkerKey {
  workerId: string;
  /** The tenant that registered the worker: the only one whose jobs it may lease. */
  tenant: string;
  kid: string;
  publicKeyJwk: Ed25519PublicJwk;
  revoked: boolean;
}

export interface WorkerKeyDirectory {
  /** The worker whose registered key has this thumbprint (revoked ones included), if any. */
  byKid(kid: string): WorkerKey | undefined;
}

export const WORKER_KEY_DIRECTORY = Symbol('WORKER_KEY_DIRECTORY');
