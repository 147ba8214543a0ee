/**
 * A small, realistic ledger on disk for the offline-verifier and CLI end-to-end specs, and the tools an attacker
 * with write access to a copy of it would use: edit `entries.ndjson` / `checkpoints.json` of an export, or the
 * SQLite file of a data folder directly (triggers dropped, or the table rebuilt without its constraints).
 */
import { jest } from '@jest/globals';
import Database from 'better-sqlite3';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { main } from '../../src/cli/program.js';
import { exportLedger } from '../../src/cli/offline-ledger.js';
import type { StoredCheckpoint } from '../../src/ledger/checkpoint-store.port.js';
import { dataPaths, EmbeddedLedger } from '../../src/ledger/embedded-ledger.js';
import type { EntryMeta, IntegratedEntry, JsonObject, Role, SignedEntry } from '../../src/ledger/entry.js';
import { signEntry } from '../../src/ledger/entry-signature.js';
import { entryLeafHash, leafHash } from '../../src/ledger/hashing.js';
import { exportPaths } from '../../src/ledger/ledger-export.js';
import type { SigningKey } from '../../src/ledger/signing-key.js';
import { SqliteEventStore } from '../../src/ledger/sqlite/sqlite-event-store.js';

export const ORIGIN = 'ida-ledger.test/log';
/** Small on purpose: several checkpoints over ~30 entries, so that tampering lands between two of them. */
export const CHECKPOINT_EVERY = 5;

export interface LedgerFixture {
  /** Temporary folder holding everything below (remove it with `removeFixture`). */
  root: string;
  /** The pristine data folder; never modified (copy it with `tamperable`). */
  dataDir: string;
  /** A pristine export of it (`ida-ledger export`). */
  exportDir: string;
  entries: IntegratedEntry[];
  checkpoints: StoredCheckpoint[];
  /** The first log key: rotated out, then revoked. */
  oldKid: string;
  /** The key that signs after the rotation. */
  newKid: string;
  /** Position of the old key's `SigningKeyRevoked` entry. */
  revokedAtPosition: number;
}

interface Step {
  stream: string;
  tenant: string;
  actor: { sub: string; role: Role };
  events: Array<{ type: string; data: JsonObject }>;
}

const queryStream = (tenant: string, n: number) => `query-${tenant}-${String(n).padStart(4, '0')}`;

/** A few tenants, several multi-entry streams, interleaved as concurrent pipelines would write them. */
function workload(): { beforeRotation: Step[]; beforeRevocation: Step[]; afterRevocation: Step[] } {
  const pipeline = (tenant: string) => ({ sub: `orchestrator-${tenant}`, role: 'pipeline' as const });
  const overseer = (tenant: string) => ({ sub: `overseer-${tenant}-7`, role: 'overseer' as const });
  const submitted = (question: string) => ({ type: 'QuerySubmitted', data: { question, budget: { maxDepth: 3, maxCalls: 40 } } });
  const decomposed = (parts: string[]) => ({ type: 'DecompositionProposed', data: { subQuestions: parts, model: 'amplifier-v2' } });
  const subAnswer = (index: number, answer: string) => ({ type: 'SubAnswerRecorded', data: { index, answer, confidence: 0.82 } });
  const override = (note: string) => ({ type: 'HumanOverrideRecorded', data: { decision: 'override', note } });
  const accepted = (answer: string) => ({ type: 'AnswerAccepted', data: { answer, distilled: true } });
  const a1 = queryStream('acme', 1);
  const a2 = queryStream('acme', 2);
  const g1 = queryStream('globex', 1);
  const i1 = queryStream('initech', 1);
  const g2 = queryStream('globex', 2);
  return {
    beforeRotation: [
      { stream: a1, tenant: 'acme', actor: pipeline('acme'), events: [submitted('Is the Q3 churn model calibrated?')] },
      { stream: g1, tenant: 'globex', actor: pipeline('globex'), events: [submitted('Summarise incident 4711')] },
      { stream: a1, tenant: 'acme', actor: pipeline('acme'), events: [decomposed(['Which cohorts?', 'Which metric?']), subAnswer(0, 'enterprise, smb')] },
      { stream: a2, tenant: 'acme', actor: pipeline('acme'), events: [submitted('Rank the retention levers')] },
      { stream: g1, tenant: 'globex', actor: pipeline('globex'), events: [decomposed(['Timeline?', 'Root cause?'])] },
      { stream: a1, tenant: 'acme', actor: pipeline('acme'), events: [subAnswer(1, 'Brier score 0.11'), accepted('Calibrated within tolerance')] },
      { stream: i1, tenant: 'initech', actor: pipeline('initech'), events: [submitted('Audit the TPS report pipeline')] },
      { stream: g1, tenant: 'globex', actor: overseer('globex'), events: [override('Root cause was the config push, not the cache')] },
      { stream: a2, tenant: 'acme', actor: pipeline('acme'), events: [decomposed(['Price?', 'Onboarding?', 'Support?']), subAnswer(0, 'price matters least')] },
      { stream: i1, tenant: 'initech', actor: pipeline('initech'), events: [decomposed(['Who files them?'])] },
    ],
    beforeRevocation: [
      { stream: a2, tenant: 'acme', actor: overseer('acme'), events: [override('Support outranks onboarding')] },
      { stream: g1, tenant: 'globex', actor: pipeline('globex'), events: [accepted('Config push at 09:14 caused the outage')] },
      { stream: g2, tenant: 'globex', actor: pipeline('globex'), events: [submitted('Draft the postmortem'), decomposed(['Impact?', 'Actions?'])] },
      { stream: i1, tenant: 'initech', actor: pipeline('initech'), events: [subAnswer(0, 'Bill, every Friday')] },
      { stream: a2, tenant: 'acme', actor: pipeline('acme'), events: [accepted('Support, onboarding, price')] },
    ],
    afterRevocation: [
      { stream: g2, tenant: 'globex', actor: pipeline('globex'), events: [subAnswer(0, '2h of degraded search'), subAnswer(1, 'canary config pushes')] },
      { stream: i1, tenant: 'initech', actor: overseer('initech'), events: [override('The reports are not needed at all')] },
      { stream: g2, tenant: 'globex', actor: pipeline('globex'), events: [accepted('Postmortem drafted')] },
      { stream: i1, tenant: 'initech', actor: pipeline('initech'), events: [accepted('Retire the TPS report')] },
    ],
  };
}

function metaFor(step: Step, n: number): EntryMeta {
  const commandId = `cmd-${step.tenant}-${n}`;
  return {
    tenant: step.tenant,
    actor: step.actor,
    correlationId: `corr-${step.stream}`,
    causationId: null,
    commandId,
    recordedAt: new Date().toISOString(),
  };
}

/** Builds the fixture ledger (embedded store, checkpoints every 5 entries, a key rotation and a revocation) and exports it. */
export async function buildFixture(): Promise<LedgerFixture> {
  const root = mkdtempSync(join(tmpdir(), 'ida-ledger-fixture-'));
  const dataDir = join(root, 'pristine-data');
  const exportDir = join(root, 'pristine-export');
  const ledger = await EmbeddedLedger.open({ dataDir, origin: ORIGIN, checkpointEveryEntries: CHECKPOINT_EVERY, checkpointEveryMs: 3_600_000 });
  const steps = workload();
  let n = 0;
  const run = async (list: Step[]) => {
    for (const step of list) {
      await ledger.store.append({
        stream: step.stream,
        expectedRevision: 'any',
        events: step.events.map((event) => ({ type: event.type, schema: 1, data: event.data })),
        meta: metaFor(step, n++),
      });
    }
  };
  let oldKid: string;
  let newKid: string;
  try {
    await run(steps.beforeRotation);
    oldKid = ledger.keyRing.currentKid();
    newKid = (await ledger.rotateKey()).kid;
    await run(steps.beforeRevocation);
    await ledger.revokeKey(oldKid, 'rotated out in the key-rotation drill');
    await run(steps.afterRevocation);
  } finally {
    await ledger.close(); // issues the final checkpoint
  }
  const reader = SqliteEventStore.openReadOnly(dataPaths(dataDir).database);
  let entries: IntegratedEntry[];
  let checkpoints: StoredCheckpoint[];
  try {
    entries = await reader.readAll(0, 10_000);
    checkpoints = await reader.checkpoints.list();
  } finally {
    reader.close();
  }
  const revocation = entries.find((e) => e.entry.type === 'SigningKeyRevoked');
  if (!revocation) throw new Error('fixture has no revocation');
  await exportLedger(dataDir, exportDir);
  return { root, dataDir, exportDir, entries, checkpoints, oldKid, newKid, revokedAtPosition: revocation.position };
}

export function removeFixture(fixture: LedgerFixture | undefined): void {
  if (fixture) rmSync(fixture.root, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Choosing entries to tamper with

const isTenantEntry = (e: IntegratedEntry) => e.entry.meta.tenant !== 'system';

/**
 * A tenant entry in the middle of the log whose stream goes on after it, and which does not start a checkpoint
 * range (so a verifier that only compared checkpoints would name an earlier position than this one).
 */
export function middleEntry(fixture: LedgerFixture, after = Math.floor(fixture.entries.length / 3)): IntegratedEntry {
  const sizes = new Set(fixture.checkpoints.map((c) => c.size));
  const found = fixture.entries.find(
    (e) =>
      e.position >= after &&
      isTenantEntry(e) &&
      !sizes.has(e.position) &&
      fixture.entries.some((later) => later.position > e.position && later.entry.stream === e.entry.stream),
  );
  if (!found) throw new Error('fixture has no suitable middle entry');
  return found;
}

/** Two tenant entries of one stream (p < q), both in the middle of the log. */
export function sameStreamPair(fixture: LedgerFixture): [IntegratedEntry, IntegratedEntry] {
  const first = middleEntry(fixture);
  const second = fixture.entries.find((e) => e.position > first.position && e.entry.stream === first.entry.stream)!;
  return [first, second];
}

/** Two adjacent tenant entries of different streams in the middle of the log. */
export function crossStreamNeighbours(fixture: LedgerFixture): [IntegratedEntry, IntegratedEntry] {
  const sizes = new Set(fixture.checkpoints.map((c) => c.size));
  for (const e of fixture.entries) {
    const next = fixture.entries[e.position + 1];
    if (e.position < 8 || !next || !isTenantEntry(e) || !isTenantEntry(next) || sizes.has(e.position)) continue;
    if (next.entry.stream !== e.entry.stream) return [e, next];
  }
  throw new Error('fixture has no adjacent entries of two streams');
}

/** The newest entry of each stream, as of the end of `entries`. */
export function streamHead(entries: SignedEntry[], stream: string): SignedEntry | undefined {
  return entries.filter((e) => e.stream === stream).at(-1);
}

// ---------------------------------------------------------------------------------------------------------------
// Forging and byte-level edits

/**
 * An entry that continues `stream` correctly (next revision, `prev` = leaf hash of its head) and is validly
 * signed by `key` — only the key can make it wrong.
 */
export function forgeContinuation(
  entries: SignedEntry[],
  stream: string,
  key: SigningKey,
  overrides: { recordedAt?: string; data?: JsonObject; type?: string } = {},
): SignedEntry {
  const head = streamHead(entries, stream);
  if (!head) throw new Error(`no stream ${stream}`);
  return signEntry(
    {
      stream,
      revision: head.revision + 1,
      id: uuidv7(),
      type: overrides.type ?? 'HumanOverrideRecorded',
      schema: 1,
      data: overrides.data ?? { decision: 'override', note: 'approved by the attacker' },
      meta: { ...head.meta, commandId: `cmd-forged-${uuidv7()}`, recordedAt: overrides.recordedAt ?? new Date().toISOString() },
      prev: entryLeafHash(head).toString('hex'),
      kid: key.kid,
    },
    key,
  );
}

/** Replaces the character at `index` by another of the same kind (letter, digit, base64url), keeping the length. */
export function flipCharAt(text: string, index: number): string {
  const c = text[index]!;
  let replacement: string;
  if (/[0-9]/u.test(c)) replacement = c === '7' ? '8' : '7';
  else if (/[a-z]/u.test(c)) replacement = c === 'q' ? 'r' : 'q';
  else if (/[A-Z]/u.test(c)) replacement = c === 'Q' ? 'R' : 'Q';
  else if (c === '-' || c === '_') replacement = c === '-' ? '_' : '-';
  else throw new Error(`will not flip ${JSON.stringify(c)} at ${index}`);
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

/** Index of the first character of the string value of `"member":"` after `from` (a marker inside the JSON). */
export function valueIndex(json: string, member: string, from = 0): number {
  const at = json.indexOf(`"${member}":"`, from);
  if (at < 0) throw new Error(`no string member ${member}`);
  return at + member.length + 4;
}

/** Number of positions at which two equally long strings differ. */
export function changedChars(a: string, b: string): number {
  if (a.length !== b.length) throw new Error('lengths differ');
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}


// ---------------------------------------------------------------------------------------------------------------
// A copy of the ledger in one of the two forms the verifier reads, and the attacker's edits to it

export type Form = 'export' | 'data-dir';
export const FORMS: Form[] = ['export', 'data-dir'];

export interface StoredRecord {
  position: number;
  /** The entry's bytes as stored (RFC 8785). */
  json: string;
}

export interface TamperableLedger {
  form: Form;
  /** The copy's folder (export folder or data folder). */
  dir: string;
  /** The copy's data folder (its key files: the attacker's loot). */
  dataDir: string;
  /** `verify` arguments naming this copy. */
  args: string[];
  records(): StoredRecord[];
  entries(): SignedEntry[];
  /** Rewrites the entry at `position` (the data-dir attacker recomputes its stored leaf hash). */
  setEntryJson(position: number, json: string): void;
  /** Deletes the entry; `renumber` closes the gap as a careful attacker would. */
  remove(position: number, options?: { renumber?: boolean }): void;
  /** Inserts an entry at `position`, moving the later ones up by one. */
  insert(position: number, json: string): void;
  /** Appends an entry at the next position. */
  append(json: string): void;
  /** Exchanges the entries at p and q; each position keeps its number. */
  swapEntries(p: number, q: number): void;
  /** Deletes every entry from `position` on; `dropLaterCheckpoints` also deletes the checkpoints beyond the cut. */
  truncateFrom(position: number, options: { dropLaterCheckpoints: boolean }): void;
}

let copies = 0;

/** A fresh copy of the fixture in the given form (and always a copy of its data folder, for the key files). */
export function tamperable(fixture: LedgerFixture, form: Form): TamperableLedger {
  const base = join(fixture.root, `copy-${++copies}`);
  const dataDir = join(base, 'data');
  cpSync(fixture.dataDir, dataDir, { recursive: true });
  if (form === 'export') {
    const dir = join(base, 'export');
    cpSync(fixture.exportDir, dir, { recursive: true });
    return exportCopy(dir, dataDir);
  }
  return dataDirCopy(dataDir);
}

function exportCopy(dir: string, dataDir: string): TamperableLedger {
  const paths = exportPaths(dir);
  const prefix = '{"entry":';
  const read = (): StoredRecord[] =>
    readFileSync(paths.entries, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const cut = line.lastIndexOf(',"position":');
        return { position: Number(line.slice(cut + ',"position":'.length, -1)), json: line.slice(prefix.length, cut) };
      });
  const write = (records: StoredRecord[]) =>
    writeFileSync(paths.entries, records.map((r) => `${prefix}${r.json},"position":${r.position}}\n`).join(''));
  const renumbered = (records: StoredRecord[]) => records.map((r, position) => ({ position, json: r.json }));
  const copy: TamperableLedger = {
    form: 'export',
    dir,
    dataDir,
    args: ['--export', dir],
    records: read,
    entries: () => read().map((r) => JSON.parse(r.json) as SignedEntry),
    setEntryJson(position, json) {
      write(read().map((r) => (r.position === position ? { position, json } : r)));
    },
    remove(position, options = {}) {
      const kept = read().filter((r) => r.position !== position);
      write(options.renumber ? renumbered(kept) : kept);
    },
    insert(position, json) {
      const records = read();
      records.splice(position, 0, { position, json });
      write(renumbered(records));
    },
    append(json) {
      const records = read();
      write([...records, { position: records.length, json }]);
    },
    swapEntries(p, q) {
      const records = read();
      const [a, b] = [records[p]!.json, records[q]!.json];
      records[p] = { position: p, json: b };
      records[q] = { position: q, json: a };
      write(records);
    },
    truncateFrom(position, options) {
      write(read().filter((r) => r.position < position));
      if (options.dropLaterCheckpoints) {
        const checkpoints = JSON.parse(readFileSync(paths.checkpoints, 'utf8')) as StoredCheckpoint[];
        writeFileSync(paths.checkpoints, JSON.stringify(checkpoints.filter((c) => c.size <= position), null, 2) + '\n');
      }
    },
  };
  return copy;
}

const TRIGGERS = [
  'entries_positions_are_gapless',
  'entries_revisions_are_consecutive',
  'entries_are_append_only_update',
  'entries_are_append_only_delete',
  'checkpoints_are_kept_update',
  'checkpoints_are_kept_delete',
];

/** Opens the copy's SQLite file as the attacker: the append-only triggers dropped first. */
function withDatabase<T>(dataDir: string, edit: (db: Database.Database) => T): T {
  const db = new Database(dataPaths(dataDir).database);
  try {
    for (const trigger of TRIGGERS) db.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
    return db.transaction(() => edit(db))();
  } finally {
    db.close();
  }
}

/** Rebuilds `entries` without its keys and UNIQUE constraints, so that positions can move and entries repeat. */
function loosen(db: Database.Database): void {
  db.exec(`CREATE TABLE entries_loose AS SELECT * FROM entries;
           DROP TABLE entries;
           ALTER TABLE entries_loose RENAME TO entries;`);
}

function rowValues(position: number, json: string) {
  const entry = JSON.parse(json) as SignedEntry;
  return {
    position,
    stream: entry.stream,
    revision: entry.revision,
    id: entry.id,
    type: entry.type,
    tenant: entry.meta.tenant,
    command_id: entry.meta.commandId,
    recorded_at: entry.meta.recordedAt,
    entry_json: json,
    leaf_hash: leafHash(json),
  };
}

const INSERT_ROW =
  'INSERT INTO entries (position, stream, revision, id, type, tenant, command_id, recorded_at, entry_json, leaf_hash) ' +
  'VALUES (@position, @stream, @revision, @id, @type, @tenant, @command_id, @recorded_at, @entry_json, @leaf_hash)';

function dataDirCopy(dataDir: string): TamperableLedger {
  const read = (): StoredRecord[] =>
    withDatabase(dataDir, (db) =>
      (db.prepare('SELECT position, entry_json FROM entries ORDER BY position').all() as Array<{ position: number; entry_json: string }>).map(
        (row) => ({ position: row.position, json: row.entry_json }),
      ),
    );
  const setRow = (db: Database.Database, position: number, json: string) =>
    db.prepare('UPDATE entries SET entry_json = ?, leaf_hash = ? WHERE position = ?').run(json, leafHash(json), position);
  return {
    form: 'data-dir',
    dir: dataDir,
    dataDir,
    args: ['--data-dir', dataDir],
    records: read,
    entries: () => read().map((r) => JSON.parse(r.json) as SignedEntry),
    setEntryJson(position, json) {
      withDatabase(dataDir, (db) => setRow(db, position, json));
    },
    remove(position, options = {}) {
      withDatabase(dataDir, (db) => {
        db.prepare('DELETE FROM entries WHERE position = ?').run(position);
        if (options.renumber) {
          loosen(db);
          db.prepare('UPDATE entries SET position = position - 1 WHERE position > ?').run(position);
        }
      });
    },
    insert(position, json) {
      withDatabase(dataDir, (db) => {
        loosen(db);
        db.prepare('UPDATE entries SET position = position + 1 WHERE position >= ?').run(position);
        db.prepare(INSERT_ROW).run(rowValues(position, json));
      });
    },
    append(json) {
      withDatabase(dataDir, (db) => {
        const size = db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
        const row = rowValues(size, json);
        // A replayed entry repeats an id and a (stream, revision): the table must lose its UNIQUE constraints.
        const clash = db.prepare('SELECT 1 FROM entries WHERE id = ? OR (stream = ? AND revision = ?)').get(row.id, row.stream, row.revision);
        if (clash) loosen(db);
        db.prepare(INSERT_ROW).run(row);
      });
    },
    swapEntries(p, q) {
      withDatabase(dataDir, (db) => {
        const get = db.prepare('SELECT entry_json FROM entries WHERE position = ?').pluck();
        const [a, b] = [get.get(p) as string, get.get(q) as string];
        setRow(db, p, b);
        setRow(db, q, a);
      });
    },
    truncateFrom(position, options) {
      withDatabase(dataDir, (db) => {
        db.prepare('DELETE FROM entries WHERE position >= ?').run(position);
        if (options.dropLaterCheckpoints) db.prepare('DELETE FROM checkpoints WHERE size > ?').run(position);
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Running the CLI

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ida-ledger <args>` in this process through `main`, capturing what it prints. */
export async function runCli(args: string[]): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const capture = (sink: string[]) => (chunk: unknown) => {
    sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture(stdout) as typeof process.stdout.write),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture(stderr) as typeof process.stderr.write),
    jest.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void stdout.push(`${format(...parts)}\n`)),
    jest.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void stderr.push(`${format(...parts)}\n`)),
  ];
  try {
    const code = await main(['node', 'ida-ledger', ...args]);
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** `FAIL at position N: reason` → { position, reason }; null when the output is not a failure line. */
export function parseFailure(stdout: string): { position: number; reason: string } | null {
  const match = /^FAIL at position (\d+): (.+)$/mu.exec(stdout);
  return match ? { position: Number(match[1]), reason: match[2]! } : null;
}

export function saveNote(dir: string, name: string, note: string): string {
  const path = join(dir, name);
  writeFileSync(path, note);
  return path;
}

export function scratchDir(fixture: LedgerFixture, name: string): string {
  return mkdtempSync(join(fixture.root, `${name}-`));
}
