/**
 * Keeps the inference context's in-memory indexes (job queue, worker registry) current: one pass over the log
 * at start (the store's subscription catches up from position 0 before the service serves), then every new
 * entry as it is integrated. Commands that must see their own append in an index (a registration, a lease)
 * wait for it with `caughtUp(position)`.
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { IntegratedEntry } from '../ledger/entry.js';
import type { EventStore, Subscription } from '../ledger/event-store.port.js';
import { EVENT_STORE } from '../ledger/ledger.tokens.js';
import { JobQueue } from './jobs/job-queue.js';
import { WorkerRegistry } from './workers/worker-registry.js';

@Injectable()
export class InferenceIndex implements OnModuleInit, OnModuleDestroy {
  readonly jobs = new JobQueue();
  readonly workers = new WorkerRegistry();
  private readonly logger = new Logger('InferenceIndex');
  private subscription: Subscription | undefined;
  /** Position of the last entry applied; -1 before the first. */
  private applied = -1;
  private failure: Error | null = null;
  private readonly waiting = new Set<{ position: number; resolve: () => void; reject: (error: Error) => void }>();
  private closed = false;

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async onModuleInit(): Promise<void> {
    const size = await this.store.size();
    this.subscription = this.store.subscribe(0, (entry) => this.apply(entry));
    // Serve only once every entry written before start is in the indexes.
    if (size > 0) await this.caughtUp(size - 1);
    this.logger.log(`Inference indexes rebuilt from ${size} entries`);
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    await this.subscription?.close();
    for (const waiter of this.waiting) waiter.reject(new Error('the inference index is closed'));
    this.waiting.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves once the entry at `position` (and every one before it) is applied. */
  caughtUp(position: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.applied >= position) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiting.add({ position, resolve, reject }));
  }

  private apply(integrated: IntegratedEntry): void {
    if (this.failure !== null) return;
    try {
      this.jobs.apply(integrated);
      this.workers.apply(integrated);
    } catch (error) {
      // A worker stream the registry cannot fold is a defect of the log: stop here, loudly, rather than
      // authenticate from a registry that diverged from it.
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.logger.error(`Cannot apply entry ${integrated.position}: ${this.failure.message}`);
      for (const waiter of this.waiting) waiter.reject(this.failure);
      this.waiting.clear();
      return;
    }
    this.applied = integrated.position;
    for (const waiter of this.waiting) {
      if (waiter.position <= this.applied) {
        this.waiting.delete(waiter);
        waiter.resolve();
      }
    }
  }
}
