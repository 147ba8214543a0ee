/**
 * Events of the worker registry (stream `worker-<workerId>`, docs/policy-gate.md "Workers"), their parser and
 * the fold. An admin registers a worker's Ed25519 public key (`WorkerRegistered`) before it may lease jobs, and
 * may revoke it (`WorkerRevoked`, final). Plain TypeScript: no Nest, no storage.
 */
import {
  badEventOf,
  eventTypeGuard,
  openStoredEvent,
  recordedMeta,
  type RecordableEntry,
  type StoredEvent,
} from '../../common/events/stored-event-fields.js';
import type { Actor } from '../../ledger/entry.js';
import type { Ed25519PublicJwk } from '../../ledger/signing-key.js';

export const WORKER_STREAM_PREFIX = 'worker-';

export function workerStream(workerId: string): string {
  return WORKER_STREAM_PREFIX + workerId;
}

export type WorkerRegisteredData = {
  workerId: string;
  name: string;
  /** Ed25519 OKP public key (RFC 8037), exactly `{kty, crv, x}`. */
  publicKeyJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  /** RFC 7638 thumbprint of `publicKeyJwk`: the `kid` of the worker's tokens and result signatures. */
  kid: string;
};
export type WorkerRevokedData = { workerId: string; reason: string };

export type WorkerEvent =
  | { type: 'WorkerRegistered'; schema: 1; data: WorkerRegisteredData }
  | { type: 'WorkerRevoked'; schema: 1; data: WorkerRevokedData };

export const WORKER_EVENT_TYPES = ['WorkerRegistered', 'WorkerRevoked'] as const;
export const isWorkerEventType = eventTypeGuard(WORKER_EVENT_TYPES);

const bad = badEventOf('WORKER.EVENT_INVALID');

export function parseWorkerEvent(entry: StoredEvent): WorkerEvent {
  const { type, fields: f } = openStoredEvent(entry, isWorkerEventType, () => [1], bad);
  switch (type) {
    case 'WorkerRegistered': {
      const jwk = f.object('publicKeyJwk');
      return {
        type,
        schema: 1,
        data: {
          workerId: f.id('workerId'),
          name: f.str('name'),
          publicKeyJwk: { kty: jwk.oneOf('kty', ['OKP']), crv: jwk.oneOf('crv', ['Ed25519']), x: jwk.str('x') },
          kid: f.str('kid'),
        },
      };
    }
    case 'WorkerRevoked':
      return { type, schema: 1, data: { workerId: f.id('workerId'), reason: f.str('reason') } };
    default: {
      const unreachable: never = type;
      throw bad(String(unreachable), 'unknown event type');
    }
  }
}

export interface WorkerState {
  readonly workerId: string;
  readonly tenant: string;
  readonly name: string;
  readonly publicKeyJwk: Ed25519PublicJwk;
  readonly kid: string;
  readonly registeredAt: string;
  readonly registeredBy: Actor;
  readonly revokedAt: string | null;
  readonly revokedBy: Actor | null;
  readonly revokeReason: string | null;
  readonly revision: number;
}

/** The worker after `entries` (one `worker-<id>` stream, in order); null when none was registered there. */
export function rehydrateWorker(entries: Iterable<RecordableEntry>): WorkerState | null {
  let state: WorkerState | null = null;
  for (const entry of entries) {
    if (!isWorkerEventType(entry.type)) continue;
    state = evolveWorker(state, entry);
  }
  return state;
}

/** Applies one stored entry of a worker stream (throws `WORKER.EVENT_INVALID` on what cannot be applied). */
export function evolveWorker(state: WorkerState | null, entry: RecordableEntry): WorkerState {
  const event = parseWorkerEvent(entry);
  const { meta, revision } = recordedMeta(entry, bad);
  switch (event.type) {
    case 'WorkerRegistered':
      if (state !== null) throw bad(event.type, `worker ${event.data.workerId} registered twice`);
      return {
        workerId: event.data.workerId,
        tenant: meta.tenant,
        name: event.data.name,
        publicKeyJwk: { ...event.data.publicKeyJwk },
        kid: event.data.kid,
        registeredAt: meta.recordedAt,
        registeredBy: meta.actor,
        revokedAt: null,
        revokedBy: null,
        revokeReason: null,
        revision,
      };
    case 'WorkerRevoked':
      if (state === null) throw bad(event.type, 'revocation of a worker never registered');
      if (state.revokedAt !== null) throw bad(event.type, `worker ${state.workerId} revoked twice`);
      if (meta.tenant !== state.tenant) throw bad(event.type, 'revocation by another tenant');
      return { ...state, revokedAt: meta.recordedAt, revokedBy: meta.actor, revokeReason: event.data.reason, revision };
    default: {
      const unreachable: never = event;
      throw bad(String((unreachable as WorkerEvent).type), 'unknown event type');
    }
  }
}
