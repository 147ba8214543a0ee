/**
 * Group-commit throughput against the physical limits, all measured in one run (DESIGN §9: ratios, not absolute
 * times): W concurrent writers append 500-byte events for a few seconds, compared with
 *  - a synchronous `crypto.sign` loop over the same signed bytes (one core): the target is ≥ 0.7× this;
 *  - the test signer (`signEntryAsync`) alone, W signatures in flight per round (what the store waits on per batch);
 *  - raw SQLite: W-row transactions with synchronous=FULL, into a bare table and into this store's schema with
 *    the store's own key patterns (v7 ids, commands keyed by position, one stream per writer: the (stream, revision)
 *    index dirties a page per stream, so this, not the number of fsyncs, is the durable-commit floor per batch).
 * Not a test. Run: `npm run build && node dist/bench/sqlite-throughput.js [seconds] [writers...]`.
 */
import { sign as cryptoSign, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { canonicalJson } from '../src/ledger/canonical-json.js';
import type { EntryMeta, UnsignedEntry } from '../src/ledger/entry.js';
import { protectedHeaderFor, signEntryAsync, signingInput } from '../src/ledger/entry-signature.js';
import { leafHash } from '../src/ledger/hashing.js';
import { generateSigningKey } from '../src/ledger/signing-key.js';
import { applyMigrations, loadMigrations } from '../src/ledger/sqlite/migrations.js';
import { SqliteEventStore } from '../src/ledger/sqlite/sqlite-event-store.js';

const seconds = Number(process.argv[2] ?? 3);
const writerCounts = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [32];

const key = generateSigningKey();
const payload = { text: 'x'.repeat(480), n: 1 }; // ~500 bytes of event data
const meta = (): EntryMeta => ({
  tenant: 'tenant-a',
  actor: { sub: 'pipeline-1', role: 'pipeline' },
  correlationId: randomUUID(),
  causationId: null,
  commandId: randomUUID(),
  recordedAt: new Date().toISOString(),
});
const unsignedEntry = (): UnsignedEntry => ({
  stream: `query-${randomUUID()}`,
  revision: 12,
  id: randomUUID(),
  type: 'InferenceCompleted',
  schema: 1,
  data: payload,
  meta: meta(),
  prev: 'ab'.repeat(32),
  kid: key.kid,
});

function perSecond(count: number, startedAt: number): number {
  return count / ((performance.now() - startedAt) / 1000);
}

function rawSyncSigning(durationMs: number): number {
  const input = signingInput(protectedHeaderFor(key.kid), canonicalJson(unsignedEntry()));
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    for (let i = 0; i < 100; i++) cryptoSign(null, input, key.privateKey);
    count += 100;
  }
  return perSecond(count, start);
}

async function signerRounds(durationMs: number, inFlight: number): Promise<number> {
  const entries = Array.from({ length: inFlight }, unsignedEntry);
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    await Promise.all(entries.map((entry) => signEntryAsync(entry, key)));
    count += inFlight;
  }
  return perSecond(count, start);
}

function rawSqliteCommits(durationMs: number, rowsPerCommit: number, schema: 'bare' | 'store'): number {
  const folder = mkdtempSync(join(tmpdir(), 'ida-ledger-sqlite-raw-'));
  const db = new Database(join(folder, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const row = canonicalJson({ ...unsignedEntry(), sig: 'x'.repeat(130) });
  const hash = leafHash(row);
  let insertRow: (position: number, stream: string, revision: number) => void;
  if (schema === 'bare') {
    db.exec('CREATE TABLE entries (position INTEGER PRIMARY KEY, stream TEXT, entry_json TEXT, leaf_hash BLOB)');
    const insert = db.prepare('INSERT INTO entries VALUES (?, ?, ?, ?)');
    insertRow = (position, stream) => insert.run(position, stream, row, hash);
  } else {
    applyMigrations(db, loadMigrations());
    const insert = db.prepare(
      `INSERT INTO entries (position, stream, revision, id, type, tenant, command_id, recorded_at, entry_json, leaf_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const command = db.prepare('INSERT INTO commands (first_position, entry_count, tenant, command_id) VALUES (?, 1, ?, ?)');
    insertRow = (position, stream, revision) => {
      const commandId = randomUUID();
      insert.run(position, stream, revision, uuidv7(), 'InferenceCompleted', 'tenant-a', commandId, '2026-11-27T12:00:00.000Z', row, hash);
      command.run(position, 'tenant-a', commandId);
    };
  }
  let position = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    db.transaction(() => {
      // The same streams, in the same order, as the store run: writer i appends to query-writer-i.
      for (let i = 0; i < rowsPerCommit; i++, position++) insertRow(position, `query-writer-${i}`, Math.floor(position / rowsPerCommit));
    })();
  }
  const rate = perSecond(position, start);
  db.close();
  rmSync(folder, { recursive: true, force: true });
  return rate;
}

async function storeRate(durationMs: number, writers: number): Promise<{ rate: number; p50: number; p99: number }> {
  const folder = mkdtempSync(join(tmpdir(), 'ida-ledger-throughput-'));
  const store = await SqliteEventStore.open({
    path: join(folder, 'ledger.db'),
    signer: { currentKid: () => key.kid, sign: (entry) => signEntryAsync(entry, key) },
  });
  const latencies: number[] = [];
  let stop = false;
  const writer = async (index: number) => {
    while (!stop) {
      const began = performance.now();
      const events = [{ type: 'InferenceCompleted', schema: 1, data: payload }];
      await store.append({ stream: `query-writer-${index}`, expectedRevision: 'any', events, meta: meta() });
      latencies.push(performance.now() - began);
    }
  };
  const start = performance.now();
  const running = Array.from({ length: writers }, (_, i) => writer(i));
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  stop = true;
  await Promise.all(running);
  const rate = perSecond(latencies.length, start);
  await store.close();
  rmSync(folder, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return { rate, p50: latencies[Math.floor(latencies.length / 2)]!, p99: latencies[Math.floor(latencies.length * 0.99)]! };
}

const ms = seconds * 1000;
for (const writers of writerCounts) {
  const rawBefore = rawSyncSigning(ms / 3);
  const signer = await signerRounds(ms / 3, writers);
  const bare = rawSqliteCommits(ms / 3, writers, 'bare');
  const schema = rawSqliteCommits(ms / 3, writers, 'store');
  const measured = await storeRate(ms, writers);
  const raw = (rawBefore + rawSyncSigning(ms / 3)) / 2;
  // Every writer waits for its batch, so a batch's signing and its commit cannot overlap: one batch costs at
  // least a signing round plus a durable commit of its rows.
  const serialFloor = 1 / (1 / signer + 1 / schema);
  const line = (label: string, value: string) => console.log(`  ${label.padEnd(52)} ${value}`);
  console.log(`${writers} writers, one stream each, 500-byte events, synchronous=FULL`);
  line('raw crypto.sign, sync, one core', `${raw.toFixed(0)}/s`);
  line(`signer alone, rounds of ${writers} in flight`, `${signer.toFixed(0)}/s`);
  line(`raw SQLite, ${writers}-row FULL transactions, bare table`, `${bare.toFixed(0)} rows/s`);
  line(`raw SQLite, ${writers}-row FULL transactions, store schema`, `${schema.toFixed(0)} rows/s`);
  line('serial floor: signer round + store-schema commit', `${serialFloor.toFixed(0)}/s`);
  const latency = `append p50 ${measured.p50.toFixed(2)} ms, p99 ${measured.p99.toFixed(2)} ms`;
  line('SqliteEventStore', `${measured.rate.toFixed(0)} entries/s (${latency})`);
  line('ratio to raw sync signing (target ≥ 0.7)', `${(measured.rate / raw).toFixed(2)}×`);
  line('ratio to the serial floor', `${(measured.rate / serialFloor).toFixed(2)}×`);
}
