import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EntryMeta, IntegratedEntry } from './entry.js';
import type { CheckpointStore } from './checkpoint-store.port.js';
import { Checkpointer } from './checkpointer.js';
import { noteVerifierKey } from './checkpoint.js';
import type { AppendRequest, AppendResult, EventStore, Subscription } from './event-store.port.js';
import {
  applyKeyEntry,
  isKeyEntryType,
  jwksOf,
  keyStream,
  signingKeyActivated,
  signingKeyRevoked,
  SYSTEM_TENANT,
  type KeyRecord,
} from './key-lifecycle.js';
import { KeyRing, type Jwks } from './key-ring.js';
import type { MerkleTree } from './merkle.js';
import { SqliteEventStore } from './sqlite/sqlite-event-store.js';

export interface EmbeddedLedgerOptions {
  dataDir: string;
  origin: string;
  checkpointEveryEntries: number;
  checkpointEveryMs: number;
  now?: () => Date;
  newId?: () => string;
}

/** Paths inside the data folder; the CLI uses them too. */
export function dataPaths(dataDir: string) {
  return {
    database: join(dataDir, 'ledger.sqlite'),
    logKeys: join(dataDir, 'keys', 'log'),
    tokenKey: join(dataDir, 'keys', 'token-dev.jwk'),
    /** Content-addressed artifacts (trained models): `artifacts/sha256/<hex>`. */
    artifacts: join(dataDir, 'artifacts'),
  };
}

const SYSTEM_ACTOR = { sub: 'ida-ledger', role: 'system' as const };

/**
 * The ledger on the embedded store: SQLite event store + key ring + checkpointer, wired so that
 * (1) the current signing key is activated in the log before anything it signs, (2) key validity is read back
 * from the log, and (3) checkpoints are published every N entries or T milliseconds.
 */
export class EmbeddedLedger {
  private keyRecords = new Map<string, KeyRecord>();
  private subscription: Subscription | undefined;
  /** Set while the signing key changes: appends through `events` wait for it. */
  private keyChange: Promise<void> | null = null;
  /** Appends through `events` that have not settled yet (queued, signing or committing). */
  private appendsInFlight = 0;
  private readonly appendsSettled: (() => void)[] = [];
  private readonly gatedEvents: EventStore;

  private constructor(
    readonly store: SqliteEventStore,
    readonly keyRing: KeyRing,
    readonly checkpointer: Checkpointer,
    readonly origin: string,
    private readonly now: () => Date,
  ) {
    this.gatedEvents = {
      append: (request) => this.appendOutsideKeyChanges(request),
      readStream: (stream, fromRevision) => store.readStream(stream, fromRevision),
      readAll: (fromPosition, limit, options) => store.readAll(fromPosition, limit, options),
      readEntryJson: (fromPosition, limit) => store.readEntryJson(fromPosition, limit),
      findCommand: (tenant, commandId) => store.findCommand(tenant, commandId),
      size: () => store.size(),
      subscribe: (fromPosition, onEntry) => store.subscribe(fromPosition, onEntry),
      close: () => store.close(),
    };
  }

  static async open(options: EmbeddedLedgerOptions): Promise<EmbeddedLedger> {
    const now = options.now ?? (() => new Date());
    const paths = dataPaths(options.dataDir);
    // 1. The data folder and the log key (0700 / 0600), generated on first start.
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const { ring } = KeyRing.openFolder(paths.logKeys);
    // 2. The store, which signs with the ring.
    const storeOptions: Parameters<typeof SqliteEventStore.open>[0] = { path: paths.database, signer: ring };
    if (options.newId) storeOptions.newId = options.newId;
    const store = await SqliteEventStore.open(storeOptions);
    const checkpointer = new Checkpointer({
      origin: options.origin,
      tree: store.merkleTree(),
      store: store.checkpoints,
      signingKey: () => ring.current(),
      now,
      everyEntries: options.checkpointEveryEntries,
      everyMs: options.checkpointEveryMs,
    });
    const ledger = new EmbeddedLedger(store, ring, checkpointer, options.origin, now);
    // 3. Key validity as recorded in the log; revoked keys never sign again.
    await ledger.loadKeyRecords();
    // 4. A key that signs must first be activated in the log (self-signed: proof of possession).
    if (!ledger.keyRecords.has(ring.currentKid())) await ledger.activate(ring.currentKid());
    // 5. Follow new entries: key events update the ring, every entry may trigger a checkpoint.
    ledger.subscription = store.subscribe(await store.size(), (integrated) => ledger.onIntegrated(integrated));
    await checkpointer.start();
    return ledger;
  }

  /**
   * The event store for writers that may run while the signing key changes (the service's commands): its
   * appends wait for a key rotation to finish, and a rotation waits for the appends already under way.
   * Without that, the store could sign an entry with the new key (it asks the ring for the current key per
   * entry) and place it before the key's `SigningKeyActivated` entry, which the verifier rightly refuses.
   * `store.append` directly is for single writers that never overlap a rotation (CLI, benchmarks).
   */
  get events(): EventStore {
    return this.gatedEvents;
  }

  get checkpoints(): CheckpointStore {
    return this.store.checkpoints;
  }

  get tree(): MerkleTree {
    return this.store.merkleTree();
  }

  jwks(): Jwks {
    return jwksOf(this.keyRecords.values());
  }

  keys(): KeyRecord[] {
    return [...this.keyRecords.values()];
  }

  /** The C2SP note verifier key of the current log key. */
  noteVerifierKey(): string {
    return noteVerifierKey(this.origin, this.keyRing.current().publicJwk);
  }

  /** Generates a new log key, records its activation and makes it current. The old key stays valid. */
  async rotateKey(actor: EntryMeta['actor'] = SYSTEM_ACTOR): Promise<KeyRecord> {
    return this.whileAppendsPaused(async () => {
      const key = this.keyRing.generate();
      const previous = this.keyRing.currentKid();
      this.keyRing.makeCurrent(key.kid);
      try {
        await this.activate(key.kid, actor);
      } catch (error) {
        this.keyRing.makeCurrent(previous);
        throw error;
      }
      return this.keyRecords.get(key.kid)!;
    });
  }

  /** Records a key's revocation; entries it signs after this position fail verification. */
  async revokeKey(kid: string, reason: string, actor: EntryMeta['actor'] = SYSTEM_ACTOR): Promise<KeyRecord> {
    // Not while a rotation is under way: the key to revoke must no longer be the one that signs.
    return this.whileAppendsPaused(() => this.recordRevocation(kid, reason, actor));
  }

  private async recordRevocation(kid: string, reason: string, actor: EntryMeta['actor']): Promise<KeyRecord> {
    const record = this.keyRecords.get(kid);
    if (!record) throw new Error(`unknown signing key ${kid}`);
    if (kid === this.keyRing.currentKid()) throw new Error('the current signing key cannot be revoked; rotate first');
    await this.store.append({
      stream: keyStream(kid),
      expectedRevision: 0,
      events: [signingKeyRevoked(kid, reason)],
      meta: this.systemMeta(`revoke-key-${kid}`, actor),
    });
    // Re-read from the log: the subscription may not have delivered the key entry yet.
    await this.loadKeyRecords();
    return this.keyRecords.get(kid)!;
  }

  async close(): Promise<void> {
    await this.checkpointer.stop();
    await this.subscription?.close();
    await this.checkpointer.issueIfGrown().catch(() => undefined);
    await this.store.close();
  }

  private async appendOutsideKeyChanges(request: AppendRequest): Promise<AppendResult> {
    while (this.keyChange) await this.keyChange;
    this.appendsInFlight++;
    try {
      return await this.store.append(request);
    } finally {
      if (--this.appendsInFlight === 0) for (const settled of this.appendsSettled.splice(0)) settled();
    }
  }

  /** Runs a key change alone: later appends through `events` wait, earlier ones are settled first. */
  private async whileAppendsPaused<T>(work: () => Promise<T>): Promise<T> {
    while (this.keyChange) await this.keyChange;
    let release!: () => void;
    this.keyChange = new Promise<void>((resolve) => (release = resolve));
    try {
      if (this.appendsInFlight > 0) await new Promise<void>((resolve) => this.appendsSettled.push(resolve));
      return await work();
    } finally {
      this.keyChange = null;
      release();
    }
  }

  private systemMeta(commandId: string, actor: EntryMeta['actor'] = SYSTEM_ACTOR): EntryMeta {
    return {
      tenant: SYSTEM_TENANT,
      actor,
      correlationId: commandId,
      causationId: null,
      commandId,
      recordedAt: this.now().toISOString(),
    };
  }

  private async activate(kid: string, actor: EntryMeta['actor'] = SYSTEM_ACTOR): Promise<void> {
    const key = this.keyRing.get(kid)!;
    await this.store.append({
      stream: keyStream(kid),
      expectedRevision: 'no_stream',
      events: [signingKeyActivated(key)],
      meta: this.systemMeta(`activate-key-${kid}`, actor),
    });
    // Re-read from the log: the subscription may not have delivered the key entry yet.
    await this.loadKeyRecords();
  }

  private async loadKeyRecords(): Promise<void> {
    const page = 1000;
    let from = 0;
    // Built aside and swapped in whole: readers of the JWKS never see a half-built set.
    const records = new Map<string, KeyRecord>();
    for (;;) {
      const entries = await this.store.readAll(from, page, { tenants: [SYSTEM_TENANT] });
      for (const integrated of entries) this.applyKey(records, integrated);
      if (entries.length < page) break;
      from = entries[entries.length - 1]!.position + 1;
    }
    this.keyRecords = records;
  }

  private applyKey(records: Map<string, KeyRecord>, integrated: IntegratedEntry): void {
    if (integrated.entry.meta.tenant !== SYSTEM_TENANT || !isKeyEntryType(integrated.entry.type)) return;
    const problem = applyKeyEntry(records, integrated);
    if (problem) throw new Error(`inconsistent key entry at position ${integrated.position}: ${problem}`);
    const record = records.get(integrated.entry.data.kid as string);
    if (record?.revokedAtPosition !== undefined && !this.keyRing.isRevoked(record.kid) && record.kid !== this.keyRing.currentKid())
      this.keyRing.markRevoked(record.kid);
  }

  private onIntegrated(_integrated: IntegratedEntry): void {
    this.checkpointer.onIntegrated();
  }
}
