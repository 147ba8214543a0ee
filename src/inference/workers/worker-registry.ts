/**
 * The registered workers, in memory: by id and by key thumbprint (the guard's `WorkerKeyDirectory`). Folded
 * from the `worker-<id>` streams in log order (rebuilt at start, then the store's subscription). A worker's
 * registration is usable as soon as the register command returns (the handler waits for the fold).
 * Plain TypeScript.
 */
import type { WorkerKey, WorkerKeyDirectory } from '../../auth/worker-keys.port.js';
import type { IntegratedEntry } from '../../ledger/entry.js';
import { evolveWorker, isWorkerEventType, WORKER_STREAM_PREFIX, type WorkerState } from './worker.events.js';

export class WorkerRegistry implements WorkerKeyDirectory {
  private readonly workers = new Map<string, WorkerState>();
  private readonly kids = new Map<string, string>();

  byId(workerId: string): WorkerState | undefined {
    return this.workers.get(workerId);
  }

  byKid(kid: string): WorkerKey | undefined {
    const workerId = this.kids.get(kid);
    const worker = workerId === undefined ? undefined : this.workers.get(workerId);
    return worker === undefined ? undefined : toKey(worker);
  }

  kidOwner(kid: string): string | undefined {
    return this.kids.get(kid);
  }

  /** The tenant's workers, in registration order. */
  ofTenant(tenant: string): WorkerState[] {
    return [...this.workers.values()].filter((w) => w.tenant === tenant);
  }

  apply({ entry }: IntegratedEntry): void {
    if (!entry.stream.startsWith(WORKER_STREAM_PREFIX) || !isWorkerEventType(entry.type)) return;
    const workerId = entry.stream.slice(WORKER_STREAM_PREFIX.length);
    const next = evolveWorker(this.workers.get(workerId) ?? null, entry);
    this.workers.set(workerId, next);
    this.kids.set(next.kid, workerId);
  }
}

function toKey(worker: WorkerState): WorkerKey {
  return {
    workerId: worker.workerId,
    tenant: worker.tenant,
    kid: worker.kid,
    publicKeyJwk: { ...worker.publicKeyJwk },
    revoked: worker.revokedAt !== null,
  };
}
