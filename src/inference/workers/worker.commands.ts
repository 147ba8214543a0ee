/**
 * Deciders of the worker registry (pure): register a worker's public key, revoke it. Refusal codes
 * `WORKER.*` (docs/policy-gate.md "Workers").
 */
import { createPublicKey } from 'node:crypto';
import { LedgerError, type ErrorCategory } from '../../common/ledger-error.js';
import { isId, isNonBlank } from '../../common/domain-values.js';
import { jwkThumbprint } from '../../ledger/signing-key.js';
import type { WorkerEvent, WorkerState } from './worker.events.js';

export const WORKER_REFUSALS = {
  'WORKER.INVALID_COMMAND': 'unprocessable',
  'WORKER.INVALID_KEY': 'unprocessable',
  'WORKER.ALREADY_REGISTERED': 'conflict',
  'WORKER.KEY_IN_USE': 'conflict',
  'WORKER.NOT_FOUND': 'not_found',
  'WORKER.ALREADY_REVOKED': 'conflict',
} as const satisfies Record<string, ErrorCategory>;

export type WorkerRefusalCode = keyof typeof WORKER_REFUSALS;

export function refuseWorker(code: WorkerRefusalCode, message: string, details: Record<string, unknown> = {}): LedgerError {
  return new LedgerError(code, WORKER_REFUSALS[code], message, details);
}

export const MAX_WORKER_NAME = 200;
export const MAX_REVOKE_REASON = 2000;

export interface RegisterWorkerCommand {
  workerId: string;
  name: string;
  publicKeyJwk: { kty: string; crv: string; x: string };
}

/**
 * `kidOwner(kid)`: the worker a key thumbprint is already registered to (revoked ones included), so that one key
 * never names two workers: the guard finds a worker by its token's kid.
 */
export function decideRegisterWorker(
  command: RegisterWorkerCommand,
  state: WorkerState | null,
  kidOwner: (kid: string) => string | undefined,
): [WorkerEvent] {
  if (!isId(command.workerId) || !/^[A-Za-z0-9][A-Za-z0-9._:-]*$/u.test(command.workerId)) {
    throw refuseWorker('WORKER.INVALID_COMMAND', 'workerId: 1..200 characters of letters, digits and . _ : -', { field: 'workerId' });
  }
  if (!isNonBlank(command.name) || command.name.length > MAX_WORKER_NAME) {
    throw refuseWorker('WORKER.INVALID_COMMAND', `name: a non-blank string of at most ${MAX_WORKER_NAME} characters`, { field: 'name' });
  }
  const jwk = command.publicKeyJwk;
  if (jwk?.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string' || !/^[A-Za-z0-9_-]{43}$/u.test(jwk.x)) {
    throw refuseWorker('WORKER.INVALID_KEY', 'publicKeyJwk must be an Ed25519 OKP JWK {kty: "OKP", crv: "Ed25519", x}');
  }
  try {
    createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
  } catch {
    throw refuseWorker('WORKER.INVALID_KEY', 'publicKeyJwk is not a valid Ed25519 public key');
  }
  const publicKeyJwk = { kty: 'OKP' as const, crv: 'Ed25519' as const, x: jwk.x };
  const kid = jwkThumbprint(publicKeyJwk);
  if (state !== null) throw refuseWorker('WORKER.ALREADY_REGISTERED', `Worker ${command.workerId} is already registered`, { workerId: command.workerId });
  const owner = kidOwner(kid);
  if (owner !== undefined) throw refuseWorker('WORKER.KEY_IN_USE', 'This key is already registered to another worker', { kid });
  return [{ type: 'WorkerRegistered', schema: 1, data: { workerId: command.workerId, name: command.name, publicKeyJwk, kid } }];
}

export function decideRevokeWorker(command: { workerId: string; reason: string }, state: WorkerState | null): [WorkerEvent] {
  if (!isNonBlank(command.reason) || command.reason.length > MAX_REVOKE_REASON) {
    throw refuseWorker('WORKER.INVALID_COMMAND', `reason: a non-blank string of at most ${MAX_REVOKE_REASON} characters`, { field: 'reason' });
  }
  if (state === null) throw refuseWorker('WORKER.NOT_FOUND', `Worker ${command.workerId} not found`, { workerId: command.workerId });
  if (state.revokedAt !== null) throw refuseWorker('WORKER.ALREADY_REVOKED', `Worker ${command.workerId} is already revoked`, { workerId: command.workerId });
  return [{ type: 'WorkerRevoked', schema: 1, data: { workerId: state.workerId, reason: command.reason } }];
}
