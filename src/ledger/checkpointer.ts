import type { CheckpointStore, StoredCheckpoint } from './checkpoint-store.port.js';
import { signCheckpoint } from './checkpoint.js';
import type { MerkleTree } from './merkle.js';
import type { SigningKey } from './signing-key.js';

export interface CheckpointerOptions {
  origin: string;
  tree: MerkleTree;
  store: CheckpointStore;
  /** The key that signs checkpoints now (the log's current key). */
  signingKey: () => SigningKey;
  now: () => Date;
  /** Issue a checkpoint once this many entries were integrated since the last one. */
  everyEntries: number;
  /** …or once this many milliseconds passed with new entries. */
  everyMs: number;
}

/**
 * Publishes signed checkpoints (the "publishing" step after sequencing and integration): every N entries or
 * T milliseconds, whichever comes first, and never twice for the same size. Checkpoints are kept forever.
 */
export class Checkpointer {
  private lastSize = 0;
  private timer: NodeJS.Timeout | undefined;
  private issuing: Promise<StoredCheckpoint | null> = Promise.resolve(null);

  constructor(private readonly options: CheckpointerOptions) {}

  async start(): Promise<void> {
    const latest = await this.options.store.latest();
    this.lastSize = latest?.size ?? 0;
    // A failure is retried on the next tick; it is never silent for callers of issueIfGrown.
    this.timer = setInterval(() => void this.issueIfGrown().catch(() => undefined), this.options.everyMs);
    this.timer.unref();
  }

  /** Call after each integration; issues when N entries accumulated. */
  onIntegrated(): void {
    if (this.options.tree.size - this.lastSize >= this.options.everyEntries) void this.issueIfGrown().catch(() => undefined);
  }

  /** Issues a checkpoint of the current tree when it grew since the last one. */
  issueIfGrown(): Promise<StoredCheckpoint | null> {
    const next = this.issuing.then(async () => {
      const size = this.options.tree.size;
      if (size === 0 || size <= this.lastSize) return null;
      const checkpoint = this.sign(size);
      await this.options.store.save(checkpoint);
      this.lastSize = size;
      return checkpoint;
    });
    // A failed issue (e.g. disk full) must not block later ones; the caller still sees the failure.
    this.issuing = next.catch(() => null);
    return next;
  }

  private sign(size: number): StoredCheckpoint {
    const key = this.options.signingKey();
    const rootHash = this.options.tree.root(size);
    return {
      size,
      rootHash: rootHash.toString('base64'),
      note: signCheckpoint({ origin: this.options.origin, size, rootHash }, key),
      issuedAt: this.options.now().toISOString(),
      kid: key.kid,
    };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.issuing;
  }
}
