/**
 * Keeps the inference context's in-memory indexes (job queue, worker registry) current: at start, the entries
 * written before it of the types they fold (filtered by the store, not read and parsed one by one: about half of
 * a realistic log), then, from that position on, every new entry as the store's subscription integrates it.
 * Commands that must see their own append in an index (a registration, a lease) wait for it with
 * `caughtUp(position)`.
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { IntegratedEntry } from '../ledger/entry.js';
import type { EventStore, Subscription } from '../ledger/event-store.port.js';
import { EVENT_STORE } from '../ledger/ledger.tokens.js';
import { JOB_QUEUE_EVENT_TYPES, JobQueue } from './jobs/job-queue.js';
import { WORKER_EVENT_TYPES } from './workers/worker.events.js';
import { WorkerRegistry } from './workers/worker-registry.js';

/** Entries per read while catching up at start. */
const CATCH_UP_PAGE = 2000;

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
    // 1. Everything written before start: only the types the indexes fold (they ignore every other one).
    const size = await this.store.size();
    const types = [...JOB_QUEUE_EVENT_TYPES, ...WORKER_EVENT_TYPES];
    for (let from = 0; from < size; ) {
      const page = await this.store.readAll(from, CATCH_UP_PAGE, { types });
      for (const entry of page) if (entry.position < size) this.apply(entry);
      const last = page[page.length - 1];
      if (last === undefined || page.length < CATCH_UP_PAGE || last.position >= size - 1) break;
      from = last.position + 1;
    }
    if (this.failure !== null) throw this.failure;
    // Every entry below `size` is in the indexes now (the ones not read fold nothing).
    this.markApplied(size - 1);
    // 2. From `size` on, every entry as it is integrated: no gap, no entry twice.
    this.subscription = this.store.subscribe(size, (entry) => this.apply(entry));
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
    this.markApplied(integrated.position);
  }

  private markApplied(position: number): void {
    this.applied = position;
    for (const waiter of this.waiting) {
      if (waiter.position <= this.applied) {
        this.waiting.delete(waiter);
        waiter.resolve();
      }
    }
  }
}
