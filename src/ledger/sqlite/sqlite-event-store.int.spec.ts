import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { LedgerError } from '../../common/ledger-error.js';
import { canonicalJson } from '../canonical-json.js';
import type { EntryMeta, ProposedEvent, SignedEntry, UnsignedEntry } from '../entry.js';
import { signEntryAsync } from '../entry-signature.js';
import type { EntrySigner } from '../entry-signer.port.js';
import { describeEventStoreContract } from '../event-store.contract.js';
import type { AppendRequest, EventStore } from '../event-store.port.js';
import { entryLeafHash } from '../hashing.js';
import { rootOfLeaves } from '../merkle.js';
import { generateSigningKey, type SigningKey } from '../signing-key.js';
import { SqliteEventStore } from './sqlite-event-store.js';

function signerFor(key: SigningKey): EntrySigner {
  return { currentKid: () => key.kid, sign: (entry) => signEntryAsync(entry, key) };
}

function meta(tenant = 'tenant-a', commandId: string = randomUUID()): EntryMeta {
  return { tenant, actor: { sub: 'svc', role: 'pipeline' }, correlationId: randomUUID(), causationId: null, commandId, recordedAt: '2026-11-27T12:00:00.000Z' };
}

function event(n: number, type = 'TestRecorded'): ProposedEvent {
  return { type, schema: 1, data: { n } };
}

function request(stream: string, expectedRevision: AppendRequest['expectedRevision'], events: ProposedEvent[] = [event(0)], m = meta()): AppendRequest {
  return { stream, expectedRevision, events, meta: m };
}

async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function temporaryFolder(): string {
  return mkdtempSync(join(tmpdir(), 'ida-ledger-sqlite-'));
}

describeEventStoreContract('SqliteEventStore', async () => {
  const folder = temporaryFolder();
  const path = join(folder, 'ledger.db');
  const key = generateSigningKey();
  const signer = signerFor(key);
  let current: EventStore = await SqliteEventStore.open({ path, signer });
  return {
    store: current,
    verifyKey: key.publicKey,
    reopen: async () => {
      await current.close();
      current = await SqliteEventStore.open({ path, signer });
      return current;
    },
    cleanup: async () => {
      await current.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
});

describe('SqliteEventStore (SQLite specifics)', () => {
  let folder: string;
  let path: string;
  let key: SigningKey;
  let store: SqliteEventStore;

  beforeEach(async () => {
    folder = temporaryFolder();
    path = join(folder, 'nested', 'ledger.db');
    key = generateSigningKey();
    store = await SqliteEventStore.open({ path, signer: signerFor(key) });
  });

  afterEach(async () => {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('creates its folder and an owner-only file, starts at position 0 and records the migration', async () => {
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(store.path).toBe(path);
    const result = await store.append(request('query-1', 'no_stream'));
    expect(result.entries[0]!.position).toBe(0);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([{ version: 1, name: 'initial' }]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('keeps the Merkle tree current and rebuilds the same root after reopen', async () => {
    await Promise.all(Array.from({ length: 37 }, (_, n) => store.append(request(`query-${n % 4}`, 'any', [event(n), event(n + 1)]))));
    const tree = store.merkleTree();
    expect(tree.size).toBe(74);
    const all = await store.readAll(0, 1000);
    expect(tree.root()).toEqual(rootOfLeaves(all.map((e) => entryLeafHash(e.entry))));
    const rootBefore = tree.root();
    await store.close();
    store = await SqliteEventStore.open({ path, signer: signerFor(key) });
    expect(store.merkleTree().size).toBe(74);
    expect(store.merkleTree().root()).toEqual(rootBefore);
    await store.append(request('query-0', 'any'));
    expect(store.merkleTree().size).toBe(75);
  });

  it('refuses to open a file whose positions have a gap, naming the first missing one (LEDGER.STORE_CORRUPT)', async () => {
    for (let n = 0; n < 6; n++) await store.append(request(`query-${n}`, 'no_stream'));
    await store.close();
    const db = new Database(path);
    db.exec('DROP TRIGGER entries_are_append_only_delete');
    db.prepare('DELETE FROM entries WHERE position = 3').run();
    db.close();
    await expect(SqliteEventStore.open({ path, signer: signerFor(key) })).rejects.toMatchObject({
      code: 'LEDGER.STORE_CORRUPT',
      details: { position: 3 },
    });
    // Reopened for the shared afterEach.
    rmSync(path, { force: true });
    store = await SqliteEventStore.open({ path, signer: signerFor(key) });
  });

  it('stores the exact RFC 8785 bytes of each signed entry and its leaf hash', async () => {
    await store.append(request('query-1', 'no_stream', [event(1), { type: 'Unicode', schema: 2, data: { s: 'é\u2028"\\', k: { b: 1, a: [0.5, -0, 1e21] } } }]));
    await store.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT entry_json, leaf_hash FROM entries ORDER BY position').all() as { entry_json: string; leaf_hash: Buffer }[];
    db.close();
    for (const row of rows) {
      const entry = JSON.parse(row.entry_json) as SignedEntry;
      expect(row.entry_json).toBe(canonicalJson(entry));
      expect(row.leaf_hash).toEqual(entryLeafHash(entry));
    }
    store = await SqliteEventStore.open({ path, signer: signerFor(key) });
  });

  it('saves, lists and returns the latest checkpoint, refusing another root for a kept size', async () => {
    const root = (fill: number) => Buffer.alloc(32, fill).toString('base64');
    const checkpoint = (size: number, fill = size) => ({ size, rootHash: root(fill), note: `origin\n${size}\n${root(fill)}\n\n— sig\n`, issuedAt: '2026-11-27T12:00:00.000Z', kid: key.kid });
    expect(await store.checkpoints.latest()).toBeNull();
    await store.checkpoints.save(checkpoint(10));
    await store.checkpoints.save(checkpoint(3));
    await store.checkpoints.save(checkpoint(10)); // a retried save is a no-op
    expect(await store.checkpoints.latest()).toEqual(checkpoint(10));
    expect(await store.checkpoints.list()).toEqual([checkpoint(3), checkpoint(10)]);
    await expect(store.checkpoints.save(checkpoint(10, 99))).rejects.toMatchObject({ code: 'LEDGER.CHECKPOINT_CONFLICT' });
    await expect(store.checkpoints.save({ ...checkpoint(11), rootHash: 'not base64' })).rejects.toMatchObject({ code: 'LEDGER.INVALID_CHECKPOINT' });
    await store.close();
    store = await SqliteEventStore.open({ path, signer: signerFor(key) });
    expect(await store.checkpoints.list()).toEqual([checkpoint(3), checkpoint(10)]);
  });

  it('saves a checkpoint issued while a batch is being signed outside that batch', async () => {
    const appends = Array.from({ length: 50 }, (_, n) => store.append(request(`query-${n}`, 'any')));
    await new Promise((resolve) => setImmediate(resolve)); // the batch is now open and signing
    const saved = store.checkpoints.save({ size: 0, rootHash: Buffer.alloc(32).toString('base64'), note: 'n', issuedAt: 't', kid: key.kid });
    await Promise.all([...appends, saved]);
    expect(await store.checkpoints.list()).toHaveLength(1);
    expect(await store.size()).toBe(50);
  });

  it('commits the other requests of a batch when one of them conflicts', async () => {
    await store.append(request('query-x', 'no_stream'));
    const outcomes = await Promise.allSettled([
      store.append(request('query-a', 'no_stream')),
      store.append(request('query-x', 'no_stream')), // conflicts
      store.append(request('query-b', 'no_stream', [event(1), event(2)])),
      store.append(request('query-x', 0)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(LedgerError);
    expect(await store.size()).toBe(5);
    const stored = await store.readAll(0, 10);
    expect(stored.map((e) => e.position)).toEqual([0, 1, 2, 3, 4]);
    // Within a batch, positions follow signing completion; each stream's revisions stay in order.
    const revisionsOf = (stream: string) => stored.filter((e) => e.entry.stream === stream).map((e) => e.entry.revision);
    expect([revisionsOf('query-x'), revisionsOf('query-a'), revisionsOf('query-b')]).toEqual([[0, 1], [0], [0, 1]]);
  });

  it('rejects only the request whose signature fails, and commits the rest of its batch', async () => {
    const honest = signerFor(key);
    let refused = 0;
    const picky: EntrySigner = {
      currentKid: honest.currentKid,
      sign: (entry: UnsignedEntry) => {
        if (entry.type !== 'Refused') return honest.sign(entry);
        refused++;
        return Promise.reject(new Error('key revoked for this type'));
      },
    };
    await store.close();
    store = await SqliteEventStore.open({ path, signer: picky });
    const outcomes = await Promise.allSettled([
      store.append(request('query-a', 'any', [event(0), event(1)])),
      store.append(request('query-b', 'no_stream', [event(0), { type: 'Refused', schema: 1, data: {} }])),
      store.append(request('query-b', 'any')), // planned on top of the refused one: must be planned again
      store.append(request('query-c', 'no_stream')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'LEDGER.SIGNING_FAILED' });
    expect(refused).toBe(1);
    const stored = await store.readAll(0, 100);
    expect(stored.map((e) => e.position)).toEqual([0, 1, 2, 3]);
    expect((await store.readStream('query-b')).map((e) => [e.entry.revision, e.entry.prev])).toEqual([[0, null]]);
  });

  it('rejects a whole batch whose transaction fails, and keeps its caches consistent', async () => {
    await store.append(request('query-a', 'no_stream'));
    // Another connection makes one entry type unstorable, as a full disk or a foreign writer would.
    const saboteur = new Database(path);
    saboteur.exec("CREATE TRIGGER refuse_poison BEFORE INSERT ON entries WHEN NEW.type = 'Poison' BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
    const outcomes = await Promise.allSettled([
      store.append(request('query-a', 0)),
      store.append(request('query-b', 'no_stream', [event(0), { type: 'Poison', schema: 1, data: {} }])),
      store.append(request('query-c', 'no_stream')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'LEDGER.STORAGE_FAILED' });
    expect(await store.size()).toBe(1);
    expect(store.merkleTree().size).toBe(1);
    saboteur.exec('DROP TRIGGER refuse_poison');
    saboteur.close();

    // Nothing of the failed batch leaked into the stream heads: revisions continue from what is stored.
    const a = await store.append(request('query-a', 0));
    const b = await store.append(request('query-b', 'no_stream'));
    expect(a.entries[0]).toMatchObject({ position: 1, entry: { revision: 1 } });
    expect(b.entries[0]).toMatchObject({ position: 2, entry: { revision: 0, prev: null } });
  });

  it('keeps the rows of a batch that is still being signed invisible to every read', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const honest = signerFor(key);
    const gated: EntrySigner = {
      currentKid: honest.currentKid,
      sign: async (entry) => {
        if (entry.type === 'Slow') await gate;
        return honest.sign(entry);
      },
    };
    await store.close();
    store = await SqliteEventStore.open({ path, signer: gated });
    await store.append(request('query-0', 'no_stream'));
    const delivered: number[] = [];
    const subscription = store.subscribe(0, (entry) => void delivered.push(entry.position));

    // One batch: the fast request is written into the open transaction, the slow one holds the commit back.
    const fast = store.append(request('query-a', 'no_stream', [event(1)], meta('tenant-a', 'command-fast')));
    const slow = store.append(request('query-b', 'no_stream', [{ type: 'Slow', schema: 1, data: {} }]));
    await eventually(() => delivered.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the fast request has long been written, not committed
    expect((await store.readAll(0, 10)).map((e) => e.position)).toEqual([0]);
    expect(await store.readAll(0, 10, { tenants: ['tenant-a'] })).toHaveLength(1);
    expect(await store.readStream('query-a')).toEqual([]);
    expect(await store.findCommand('tenant-a', 'command-fast')).toBeNull();
    expect(await store.size()).toBe(1);
    expect(delivered).toEqual([0]);

    release();
    await Promise.all([fast, slow]);
    expect(await store.size()).toBe(3);
    expect(await store.readStream('query-a')).toHaveLength(1);
    await eventually(() => delivered.length === 3);
    expect(delivered).toEqual([0, 1, 2]);
    await subscription.close();
  });

  it('reloads its caches after another writer appended behind its back', async () => {
    const first = await store.append(request('query-a', 'no_stream'));
    expect(await store.readStream('query-a')).toHaveLength(1);
    const foreign = await signEntryAsync(
      { stream: 'query-a', revision: 1, id: randomUUID(), type: 'Foreign', schema: 1, data: {}, meta: meta(), prev: first.entries[0]!.leafHash, kid: key.kid },
      key,
    );
    const other = new Database(path);
    other
      .prepare('INSERT INTO entries (position, stream, revision, id, type, tenant, command_id, recorded_at, entry_json, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(1, 'query-a', 1, foreign.id, foreign.type, foreign.meta.tenant, foreign.meta.commandId, foreign.meta.recordedAt, canonicalJson(foreign), entryLeafHash(foreign));
    other.close();

    await expect(store.append(request('query-a', 'any'))).rejects.toMatchObject({ code: 'LEDGER.STORAGE_FAILED' });
    expect(await store.size()).toBe(2);
    expect(store.merkleTree().size).toBe(2);
    const next = await store.append(request('query-a', 1));
    expect(next.entries[0]).toMatchObject({ position: 2, entry: { revision: 2, prev: entryLeafHash(foreign).toString('hex') } });
    expect((await store.readStream('query-a')).map((e) => e.entry.type)).toEqual(['TestRecorded', 'Foreign', 'TestRecorded']);
  });

  it('lets a read-only reader see what the writer committed, while the writer runs', async () => {
    const first = await store.append(request('query-1', 'no_stream', [event(0), event(1)], meta('tenant-a', 'command-1')));
    await store.append(request('query-2', 'no_stream', [event(2)], meta('tenant-b')));
    await store.checkpoints.save({ size: 3, rootHash: store.merkleTree().root().toString('base64'), note: 'note', issuedAt: 't', kid: key.kid });

    const reader = SqliteEventStore.openReadOnly(path);
    try {
      expect(await reader.size()).toBe(3);
      expect((await reader.readAll(0, 10)).map((e) => e.leafHash)).toEqual((await store.readAll(0, 10)).map((e) => e.leafHash));
      expect((await reader.readAll(0, 10, { tenants: ['tenant-b'] })).map((e) => e.position)).toEqual([2]);
      expect((await reader.readStream('query-1')).map((e) => e.position)).toEqual([0, 1]);
      expect((await reader.findCommand('tenant-a', 'command-1'))!.entries.map((e) => e.leafHash)).toEqual(first.entries.map((e) => e.leafHash));
      expect((await reader.checkpoints.list()).map((c) => c.size)).toEqual([3]);

      const rows = [...reader.iterateEntryJson()];
      expect(rows.map((r) => r.position)).toEqual([0, 1, 2]);
      for (const row of rows) expect(row.leafHash).toEqual(entryLeafHash(JSON.parse(row.entryJson) as SignedEntry));
      expect([...reader.iterateEntryJson(2)].map((r) => r.position)).toEqual([2]);

      await store.append(request('query-1', 1));
      expect(await reader.size()).toBe(4);
      await expect(reader.checkpoints.save({ size: 4, rootHash: Buffer.alloc(32).toString('base64'), note: 'n', issuedAt: 't', kid: 'k' })).rejects.toThrow();
    } finally {
      reader.close();
    }

    await store.close();
    const afterWriterClosed = SqliteEventStore.openReadOnly(path);
    expect(await afterWriterClosed.size()).toBe(4);
    afterWriterClosed.close();
    store = await SqliteEventStore.open({ path, signer: signerFor(key) });
  });

  it('refuses to open read-only a missing file, or one that is no ida-ledger store', () => {
    expect(() => SqliteEventStore.openReadOnly(join(folder, 'missing.db'))).toThrow(expect.objectContaining({ code: 'LEDGER.STORE_NOT_FOUND' }));
    const notAStore = join(folder, 'empty.db');
    writeFileSync(notAStore, '');
    expect(() => SqliteEventStore.openReadOnly(notAStore)).toThrow(expect.objectContaining({ code: 'LEDGER.NOT_AN_EVENT_STORE' }));
  });

  it('rejects malformed append requests with LEDGER.INVALID_APPEND and appends nothing', async () => {
    const raw = (stream: unknown, expectedRevision: unknown, events: unknown, m: unknown = meta()): unknown => ({ stream, expectedRevision, events, meta: m });
    const bad: unknown[] = [
      raw('', 'any', [event(0)]),
      raw('query-1', -1, [event(0)]),
      raw('query-1', 'latest', [event(0)]),
      raw('query-1', 'any', []),
      raw('query-1', 'any', [{ type: '', schema: 1, data: {} }]),
      raw('query-1', 'any', [{ type: 'T', schema: 1.5, data: {} }]),
      raw('query-1', 'any', [{ type: 'T', schema: 1, data: [] }]),
      raw('query-1', 'any', [{ type: 'T', schema: 1, data: { f: () => 1 } }]),
      raw('query-1', 'any', [{ type: 'T', schema: 1, data: { big: 1n } }]),
      raw('query-1', 'any', [{ type: 'T', schema: 1, data: { s: '\ud800' } }]),
      raw('query-1', 'any', [event(0)], { ...meta(), tenant: '' }),
      raw('query-\udc00', 'any', [event(0)]),
    ];
    for (const malformed of bad) {
      await expect(store.append(malformed as AppendRequest)).rejects.toMatchObject({ code: 'LEDGER.INVALID_APPEND', category: 'bad_request' });
    }
    expect(await store.size()).toBe(0);
  });

  it('splits the queue into transactions of at most maxBatch entries', async () => {
    await store.close();
    store = await SqliteEventStore.open({ path, signer: signerFor(key), maxBatch: 4 });
    const results = await Promise.all([
      ...Array.from({ length: 9 }, (_, n) => store.append(request(`query-${n}`, 'any'))),
      store.append(request('query-big', 'any', Array.from({ length: 6 }, (_, n) => event(n)))), // larger than maxBatch: goes alone
    ]);
    expect(results.flatMap((r) => r.entries.map((e) => e.position)).sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i));
  });

  it('drains queued appends on close and refuses new ones', async () => {
    const pending = Array.from({ length: 20 }, (_, n) => store.append(request(`query-${n % 3}`, 'any')));
    const closing = store.close();
    await expect(store.append(request('query-late', 'any'))).rejects.toMatchObject({ code: 'LEDGER.STORE_CLOSED' });
    await Promise.all(pending);
    await closing;
    store = await SqliteEventStore.open({ path, signer: signerFor(key) });
    expect(await store.size()).toBe(20);
  });

  it('stops a subscription whose callback throws, without skipping the entry', async () => {
    await store.append(request('query-1', 'no_stream', [event(0), event(1), event(2)]));
    const seen: number[] = [];
    const errors: [unknown, number][] = [];
    store.subscribe(
      0,
      (entry) => {
        seen.push(entry.position);
        if (entry.position === 1) throw new Error('projection bug');
      },
      { onError: (error, entry) => errors.push([error, entry.position]) },
    );
    await eventually(() => errors.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual([0, 1]);
    expect(errors).toHaveLength(1);
    expect(errors[0]![1]).toBe(1);
  });

  it('refuses to open a file whose schema is newer than the code', async () => {
    await store.close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (999, 'future', 'x', 't')").run();
    db.close();
    await expect(SqliteEventStore.open({ path, signer: signerFor(key) })).rejects.toMatchObject({ code: 'LEDGER.SCHEMA_TOO_NEW' });
    const fresh = new Database(path);
    fresh.prepare('DELETE FROM schema_migrations WHERE version = 999').run();
    fresh.close();
    store = await SqliteEventStore.open({ path, signer: signerFor(key) });
  });
});
