import { LedgerError } from '../common/ledger-error.js';
import type { IntegratedEntry } from '../ledger/entry.js';
import type { EventStore, Subscription } from '../ledger/event-store.port.js';
import { foldEntryRows } from './projection-rebuild.js';
import { statusOf, type Projection, type ProjectionEntry, type ProjectionStatus } from './projection.js';

/** What the host needs of the event store. */
export type LiveSource = Pick<EventStore, 'subscribe' | 'size'>;

interface Waiter {
  target: number;
  resolve(): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

/** How long a read waits for the projections to reach the log's size before it answers 503. */
export const DEFAULT_CATCH_UP_TIMEOUT_MS = 30_000;

/**
 * Runs a set of projections live: one store subscription from position 0 applies every entry to each of them,
 * in order. `catchUp()` gives reads read-your-writes: it resolves once every entry integrated before the call
 * (the store's size then) has been applied.
 *
 * A projection that throws stops the host (the subscription ends; reads then fail with `PROJECTIONS.FAILED`):
 * a projection that skipped an entry would silently diverge from a rebuild.
 */
export class ProjectionHost {
  private subscription: Subscription | null = null;
  private next = 0;
  private failure: LedgerError | null = null;
  private waiters: Waiter[] = [];
  /** While digests are computed in slices: the entries that arrived meanwhile, applied afterwards. */
  private held: IntegratedEntry[] | null = null;
  /** The sliced status being computed, and the position it is of. */
  private sliced: { position: number; status: Promise<{ position: number; projections: ProjectionStatus[] }> } | null = null;

  constructor(
    private readonly source: LiveSource,
    readonly projections: readonly Projection[],
    private readonly catchUpTimeoutMs = DEFAULT_CATCH_UP_TIMEOUT_MS,
  ) {
    const names = new Set(projections.map((projection) => projection.name));
    if (names.size !== projections.length) throw new TypeError('ProjectionHost: projection names must be unique');
  }

  /** The next position every projection will apply. */
  get position(): number {
    return this.next;
  }

  /**
   * Before `start`, optional: folds the entries below `size` straight from the store's rows (`readRows`, the
   * rebuild's lean path: no leaf hashes, no subscription hops), so the subscription only delivers the rest. A
   * projection that fails here fails the host, exactly as it would have during the subscription's catch-up.
   */
  preload(readRows: (fromPosition: number, limit: number) => readonly (readonly [number, string])[], size: number): void {
    if (this.subscription) throw new TypeError('ProjectionHost: preload before start');
    if (this.projections.some((projection) => projection.position !== this.next))
      throw new TypeError('ProjectionHost: the projections must all be at the host position');
    if (this.failure === null) foldEntryRows(readRows, this.next, size, (entry) => this.applyEntry(entry));
  }

  /** Starts following the log from the projections' position (0 for fresh ones). Idempotent. */
  start(): void {
    if (this.subscription || this.failure) return;
    const from = Math.min(...this.projections.map((projection) => projection.position));
    if (this.projections.some((projection) => projection.position !== from))
      throw new TypeError('ProjectionHost: the projections must all be at the same position');
    this.next = from;
    this.subscription = this.source.subscribe(from, (entry) => this.onEntry(entry));
  }

  /**
   * Resolves once every entry integrated before this call is applied. Rejects with `PROJECTIONS.FAILED` when
   * a projection has failed, `PROJECTIONS.LAGGING` (503) after the timeout, `PROJECTIONS.STOPPED` once stopped.
   */
  async catchUp(timeoutMs = this.catchUpTimeoutMs): Promise<void> {
    const target = await this.source.size();
    if (this.failure) throw this.failure;
    if (this.next >= target) return;
    if (!this.subscription) throw stopped();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { target, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        reject(
          new LedgerError('PROJECTIONS.LAGGING', 'unavailable', `the projections are at position ${this.next}, the log at ${target}; try again`, {
            position: this.next,
            size: target,
          }),
        );
      }, timeoutMs);
      waiter.timer.unref?.();
      this.waiters.push(waiter);
    });
  }

  /** Name, position, entries folded and digest of each projection (digests are computed now, or cached). */
  status(): ProjectionStatus[] {
    if (this.failure) throw this.failure;
    return this.projections.map(statusOf);
  }

  /**
   * The position and every projection's status, the digests computed in slices that give the event loop back
   * (`Projection.digestInSlices`): entries integrated meanwhile are held and applied afterwards, so the digests
   * are all of one position while appends and other requests go on. Concurrent calls share one computation.
   */
  statusInSlices(sliceMs?: number): Promise<{ position: number; projections: ProjectionStatus[] }> {
    if (this.failure) return Promise.reject(this.failure);
    const running = this.sliced;
    if (running !== null) {
      // Shared while it is of the current position; a caller that has seen later entries gets the next one.
      if (running.position === this.next) return running.status;
      return running.status.then(
        () => this.statusInSlices(sliceMs),
        () => this.statusInSlices(sliceMs),
      );
    }
    const status = this.computeStatusInSlices(sliceMs).finally(() => {
      if (this.sliced?.status === status) this.sliced = null;
    });
    this.sliced = { position: this.next, status };
    return status;
  }

  private async computeStatusInSlices(sliceMs?: number): Promise<{ position: number; projections: ProjectionStatus[] }> {
    const position = this.next;
    this.held = [];
    try {
      const projections: ProjectionStatus[] = [];
      for (const projection of this.projections) {
        const digest = projection.digestInSlices !== undefined ? await projection.digestInSlices(sliceMs) : projection.digest();
        if (this.failure) throw this.failure;
        projections.push({ name: projection.name, position: projection.position, applied: projection.applied, digest });
      }
      return { position, projections };
    } finally {
      const held = this.held;
      this.held = null;
      try {
        for (const entry of held) this.onEntry(entry);
      } catch {
        // Recorded as the host's failure by onEntry: reads report it; the subscription stops at its next entry.
      }
    }
  }

  /** Stops following the log; pending `catchUp` calls reject. Resolves once no entry is being applied. */
  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    this.settle(stopped());
    await subscription?.close();
  }

  private onEntry(entry: IntegratedEntry): void {
    if (this.failure) throw this.failure;
    if (this.held !== null) {
      this.held.push(entry);
      return;
    }
    // Rethrown: the subscription stops here instead of feeding entries past the one that failed.
    if (!this.applyEntry(entry)) throw this.failure;
  }

  /** Applies one entry to every projection; false (the host failed, waiters rejected) when one throws. */
  private applyEntry(entry: ProjectionEntry): boolean {
    try {
      for (const projection of this.projections) projection.apply(entry);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.failure = new LedgerError('PROJECTIONS.FAILED', 'internal', `a projection failed at position ${entry.position}: ${message}`, {
        position: entry.position,
        ...(error instanceof LedgerError ? { cause: error.code } : {}),
      });
      this.settle(this.failure);
      return false;
    }
    this.next = entry.position + 1;
    if (this.waiters.length > 0) this.release();
    return true;
  }

  private release(): void {
    const still: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.target <= this.next) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      } else still.push(waiter);
    }
    this.waiters = still;
  }

  private settle(error: unknown): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiters = [];
  }
}

function stopped(): LedgerError {
  return new LedgerError('PROJECTIONS.STOPPED', 'unavailable', 'the projections are not running');
}
