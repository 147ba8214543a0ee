/**
 * `ida-ledger verify` against a real ledger (embedded SQLite store, checkpoints every 5 entries, a key rotation
 * and a revocation) and the edits an attacker with write access to an export or to the data folder can make.
 * Every case runs on both forms the verifier reads: `verify --export DIR` and `verify --data-dir DIR`.
 * Exit codes: 0 intact, 1 verification failed (the output names the first bad position and why), 2 bad usage.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../src/ledger/canonical-json.js';
import { dataPaths, EmbeddedLedger } from '../src/ledger/embedded-ledger.js';
import { protectedHeaderFor } from '../src/ledger/entry-signature.js';
import { exportPaths } from '../src/ledger/ledger-export.js';
import { generateSigningKey, readPrivateKeyFile, writePrivateKeyFile } from '../src/ledger/signing-key.js';
import type { Jwks } from '../src/ledger/key-ring.js';
import {
  buildFixture,
  changedChars,
  crossStreamNeighbours,
  flipCharAt,
  forgeContinuation,
  FORMS,
  middleEntry,
  parseFailure,
  removeFixture,
  runCli,
  sameStreamPair,
  saveNote,
  scratchDir,
  tamperable,
  valueIndex,
  type CliResult,
  type LedgerFixture,
  type TamperableLedger,
} from './support/ledger-fixture.js';

let fixture: LedgerFixture;

beforeAll(async () => {
  fixture = await buildFixture();
}, 30_000);

afterAll(() => removeFixture(fixture));

const verify = (copy: TamperableLedger, ...extra: string[]) => runCli(['verify', ...copy.args, ...extra]);

/** Exit code 1 and `FAIL at position <position>: <reason matching reason>`. */
function expectFailureAt(result: CliResult, position: number, reason: RegExp): void {
  const failure = parseFailure(result.stdout);
  expect({ code: result.code, failure }).toEqual({ code: 1, failure: { position, reason: expect.stringMatching(reason) } });
}

function expectFailure(result: CliResult, reason: RegExp): { position: number; reason: string } {
  const failure = parseFailure(result.stdout);
  expect(result.code).toBe(1);
  expect(failure?.reason).toMatch(reason);
  return failure!;
}

describe.each(FORMS)('ida-ledger verify (%s)', (form) => {
  it('the fixture is what the cases below assume', () => {
    expect(fixture.entries.length).toBeGreaterThanOrEqual(25);
    expect(new Set(fixture.entries.map((e) => e.entry.meta.tenant))).toEqual(new Set(['system', 'acme', 'globex', 'initech']));
    expect(fixture.checkpoints.length).toBeGreaterThanOrEqual(4);
    expect(fixture.checkpoints.at(-1)!.size).toBe(fixture.entries.length); // close() issued the final one
    expect(fixture.entries.some((e) => e.entry.kid === fixture.oldKid && e.entry.meta.tenant !== 'system')).toBe(true);
    expect(fixture.entries.some((e) => e.entry.kid === fixture.newKid && e.position > fixture.revokedAtPosition)).toBe(true);
  });

  describe('1. intact', () => {
    it('exits 0 and reports every entry and checkpoint; --json parses with ok: true', async () => {
      const copy = tamperable(fixture, form);
      const text = await verify(copy);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`^OK: ${fixture.entries.length} entries verified; ${fixture.checkpoints.length} checkpoints match`, 'u'));

      const json = await verify(copy, '--json');
      expect(json.code).toBe(0);
      const report = JSON.parse(json.stdout) as { ok: boolean; entries: number; checkpointsVerified: number; rootHash: string };
      expect(report).toEqual({
        ok: true,
        entries: fixture.entries.length,
        checkpointsVerified: fixture.checkpoints.length,
        rootHash: fixture.checkpoints.at(-1)!.rootHash,
      });
    });

    it('exits 0 with checkpoints the auditor holds, the latest and an earlier one', async () => {
      const copy = tamperable(fixture, form);
      const dir = scratchDir(fixture, 'held');
      const latest = saveNote(dir, 'latest.note', fixture.checkpoints.at(-1)!.note);
      const earlier = saveNote(dir, 'earlier.note', fixture.checkpoints[1]!.note);
      const result = await verify(copy, '--checkpoint', latest, '--checkpoint', earlier);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^OK: /u);
    });
  });

  describe('2. a changed byte', () => {
    it("in an entry's data → 1 at that position", async () => {
      const copy = tamperable(fixture, form);
      const target = middleEntry(fixture);
      const json = copy.records()[target.position]!.json;
      const tampered = flipCharAt(json, valueIndex(json, json.includes('"answer":"') ? 'answer' : 'question', json.indexOf('"data":{')) + 2);
      expect(changedChars(json, tampered)).toBe(1);
      copy.setEntryJson(target.position, tampered);
      expectFailureAt(await verify(copy), target.position, /signature does not verify/u);
    });

    it("in an entry's meta (its tenant) → 1 at that position", async () => {
      const copy = tamperable(fixture, form);
      const target = middleEntry(fixture);
      const json = copy.records()[target.position]!.json;
      const tampered = flipCharAt(json, valueIndex(json, 'tenant', json.indexOf('"meta":{')) + 1);
      expect(changedChars(json, tampered)).toBe(1);
      copy.setEntryJson(target.position, tampered);
      expectFailureAt(await verify(copy), target.position, /signature does not verify/u);
    });

    it("in an entry's signature → 1 at that position", async () => {
      const copy = tamperable(fixture, form);
      const target = middleEntry(fixture);
      const json = copy.records()[target.position]!.json;
      const signatureStart = valueIndex(json, 'sig') + protectedHeaderFor(target.entry.kid).length + 2;
      const tampered = flipCharAt(json, signatureStart + 20);
      expect(changedChars(json, tampered)).toBe(1);
      copy.setEntryJson(target.position, tampered);
      expectFailureAt(await verify(copy), target.position, /signature/u);
    });

    it('that leaves the JSON value unchanged (a space, an escape) → 1 at that position', async () => {
      const copy = tamperable(fixture, form);
      const target = middleEntry(fixture);
      const json = copy.records()[target.position]!.json;
      copy.setEntryJson(target.position, json.replace('"data":{', '"data": {'));
      expectFailureAt(await verify(copy), target.position, /bytes|signature/u);

      const again = tamperable(fixture, form);
      const typeAt = valueIndex(json, 'type', json.lastIndexOf('"type":"'));
      const escaped = `\\u00${json.charCodeAt(typeAt).toString(16)}`; // the same character, escaped
      again.setEntryJson(target.position, json.slice(0, typeAt) + escaped + json.slice(typeAt + 1));
      expect(JSON.parse(again.records()[target.position]!.json)).toEqual(target.entry);
      expectFailureAt(await verify(again), target.position, /bytes|signature/u);
    });

    it('that only reorders the members of an entry (same values, not RFC 8785) → 1 at that position', async () => {
      const copy = tamperable(fixture, form);
      const target = middleEntry(fixture);
      const { stream, ...rest } = JSON.parse(copy.records()[target.position]!.json) as Record<string, unknown>;
      const reordered = JSON.stringify({ stream, ...rest });
      expect(JSON.parse(reordered)).toEqual(target.entry);
      copy.setEntryJson(target.position, reordered);
      expectFailureAt(await verify(copy), target.position, /bytes changed/u);
    });

    if (form === 'export') {
      it('outside the entry: a line spaced out, a blank line → 1 at that position', async () => {
        const copy = tamperable(fixture, form);
        const target = middleEntry(fixture);
        const path = exportPaths(copy.dir).entries;
        const lines = readFileSync(path, 'utf8').split('\n');
        const original = lines[target.position]!;
        lines[target.position] = original.replace(`,"position":${target.position}}`, `, "position": ${target.position}}`);
        writeFileSync(path, lines.join('\n'));
        expectFailureAt(await verify(copy), target.position, new RegExp(`line ${target.position + 1} is not in the export's form`, 'u'));

        lines[target.position] = original;
        lines.splice(target.position, 0, '');
        writeFileSync(path, lines.join('\n'));
        expectFailureAt(await verify(copy), target.position, /is empty/u);
      });
    }

    it('in the position field of an export line / the stored leaf hash → 1 at that position', async () => {
      const copy = tamperable(fixture, form);
      const target = middleEntry(fixture);
      if (form === 'export') {
        const path = exportPaths(copy.dir).entries;
        const lines = readFileSync(path, 'utf8').split('\n');
        lines[target.position] = lines[target.position]!.replace(`"position":${target.position}}`, `"position":${target.position + 1}}`);
        writeFileSync(path, lines.join('\n'));
        expectFailureAt(await verify(copy), target.position, new RegExp(`expected position ${target.position}`, 'u'));
      } else {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(dataPaths(copy.dataDir).database);
        db.exec('DROP TRIGGER entries_are_append_only_update');
        const stored = db.prepare('SELECT leaf_hash FROM entries WHERE position = ?').pluck().get(target.position) as Buffer;
        stored[7] ^= 0x01;
        db.prepare('UPDATE entries SET leaf_hash = ? WHERE position = ?').run(stored, target.position);
        db.close();
        expectFailureAt(await verify(copy), target.position, /leaf hash/u);
      }
    });
  });

  describe('3. a deleted entry', () => {
    it('in the middle → 1 at that position', async () => {
      const copy = tamperable(fixture, form);
      const target = middleEntry(fixture);
      copy.remove(target.position);
      expectFailureAt(await verify(copy), target.position, new RegExp(`expected position ${target.position}, found ${target.position + 1}`, 'u'));
    });

    it('in the middle, later positions renumbered to close the gap → 1, no later than the next entry of its stream', async () => {
      const copy = tamperable(fixture, form);
      const target = middleEntry(fixture);
      const nextOfStream = fixture.entries.find((e) => e.position > target.position && e.entry.stream === target.entry.stream)!;
      copy.remove(target.position, { renumber: true });
      const failure = expectFailure(await verify(copy), /prev does not match|revision|checkpoint/u);
      expect(failure.position).toBeLessThanOrEqual(nextOfStream.position - 1);
    });
  });

  describe('4. an inserted entry', () => {
    it('forged with a fresh key the log never knew, later entries moved up → 1 at that position', async () => {
      const copy = tamperable(fixture, form);
      const target = middleEntry(fixture);
      const before = copy.entries().slice(0, target.position);
      const stream = before.filter((e) => e.meta.tenant !== 'system').at(-1)!.stream;
      const forged = forgeContinuation(before, stream, generateSigningKey());
      copy.insert(target.position, canonicalJson(forged));
      expectFailureAt(await verify(copy), target.position, /signed by unknown key/u);
    });

    it('a replayed copy of an existing entry, right after it → 1 at the copy', async () => {
      const copy = tamperable(fixture, form);
      const target = middleEntry(fixture);
      copy.insert(target.position + 1, copy.records()[target.position]!.json);
      expectFailureAt(await verify(copy), target.position + 1, new RegExp(`revision ${target.entry.revision}, expected ${target.entry.revision + 1}`, 'u'));
    });

    it('a replayed copy of an existing entry, appended at the end → 1 at the end', async () => {
      const copy = tamperable(fixture, form);
      // One signed by the current key: a replayed entry of the revoked key would fail for that reason first.
      const target = fixture.entries.filter((e) => e.entry.kid === fixture.newKid && e.entry.meta.tenant !== 'system').at(-2)!;
      copy.append(copy.records()[target.position]!.json);
      expectFailureAt(await verify(copy), fixture.entries.length, /revision/u);
    });
  });

  describe('5. two entries swapped', () => {
    it('of one stream → 1 at the first of them', async () => {
      const copy = tamperable(fixture, form);
      const [first, second] = sameStreamPair(fixture);
      copy.swapEntries(first.position, second.position);
      expectFailureAt(await verify(copy), first.position, new RegExp(`revision ${second.entry.revision}, expected ${first.entry.revision}`, 'u'));
    });

    it('of two streams (each stream chain still intact) → 1 by the checkpoint, at or before the first of them', async () => {
      const copy = tamperable(fixture, form);
      const [first, second] = crossStreamNeighbours(fixture);
      copy.swapEntries(first.position, second.position);
      const failure = expectFailure(await verify(copy), /checkpoint of size \d+ does not match/u);
      expect(failure.position).toBeLessThanOrEqual(first.position);
      // Positions before the first checkpoint that still matches are reported as the suspect range's start.
      const lastGood = Math.max(0, ...fixture.checkpoints.map((c) => c.size).filter((size) => size <= first.position));
      expect(failure.position).toBe(lastGood);
    });

    if (form === 'export') {
      it('as whole lines, positions included → 1 at the first of them', async () => {
        const copy = tamperable(fixture, form);
        const [first, second] = crossStreamNeighbours(fixture);
        const path = exportPaths(copy.dir).entries;
        const lines = readFileSync(path, 'utf8').split('\n');
        [lines[first.position], lines[second.position]] = [lines[second.position]!, lines[first.position]!];
        writeFileSync(path, lines.join('\n'));
        expectFailureAt(await verify(copy), first.position, new RegExp(`expected position ${first.position}, found ${second.position}`, 'u'));
      });
    }
  });

  describe('6. a truncated tail', () => {
    const cutAt = () => fixture.entries.length - 3;

    it('behind a checkpoint the auditor holds, later checkpoints removed too → 1 "truncated" at the first missing position', async () => {
      const copy = tamperable(fixture, form);
      const held = saveNote(scratchDir(fixture, 'held'), 'latest.note', fixture.checkpoints.at(-1)!.note);
      copy.truncateFrom(cutAt(), { dropLaterCheckpoints: true });
      expectFailureAt(await verify(copy, '--checkpoint', held), cutAt(), /truncated/u);
      // Without a checkpoint of its own the auditor has nothing the shorter log contradicts: why auditors keep one.
      expect((await verify(copy)).code).toBe(0);
    });

    it("with the log's own later checkpoints still there, no --checkpoint needed → 1 \"truncated\"", async () => {
      const copy = tamperable(fixture, form);
      copy.truncateFrom(cutAt(), { dropLaterCheckpoints: false });
      expectFailureAt(await verify(copy), cutAt(), /truncated/u);
    });
  });

  describe('7. an entry signed by an unknown key', () => {
    it('with a valid signature and a correct chain, appended → 1 at that position', async () => {
      const copy = tamperable(fixture, form);
      const stream = middleEntry(fixture).entry.stream;
      copy.append(canonicalJson(forgeContinuation(copy.entries(), stream, generateSigningKey())));
      expectFailureAt(await verify(copy), fixture.entries.length, /signed by unknown key/u);
    });

    it('even when the attacker adds the key to the trusted keys: the log never activated it → 1', async () => {
      const copy = tamperable(fixture, form);
      const key = generateSigningKey();
      const stream = middleEntry(fixture).entry.stream;
      copy.append(canonicalJson(forgeContinuation(copy.entries(), stream, key)));
      if (form === 'export') {
        const path = exportPaths(copy.dir).jwks;
        const jwks = JSON.parse(readFileSync(path, 'utf8')) as Jwks;
        jwks.keys.push({ ...key.publicJwk, kid: key.kid, alg: 'EdDSA', use: 'sig' });
        writeFileSync(path, JSON.stringify(jwks));
      } else {
        writePrivateKeyFile(join(dataPaths(copy.dataDir).logKeys, `key-${key.kid}.jwk`), key);
      }
      expectFailureAt(await verify(copy), fixture.entries.length, /before its SigningKeyActivated/u);
    });
  });

  describe('8. an entry signed after its key was revoked', () => {
    it("with the old key's private key (read from the data folder), a correct chain, backdated → 1 \"after its revocation\"", async () => {
      const copy = tamperable(fixture, form);
      const oldKey = readPrivateKeyFile(join(dataPaths(copy.dataDir).logKeys, `key-${fixture.oldKid}.jwk`));
      expect(oldKey.kid).toBe(fixture.oldKid);
      const stream = middleEntry(fixture).entry.stream;
      const backdated = fixture.entries.find((e) => e.entry.kid === fixture.oldKid && e.entry.meta.tenant !== 'system')!.entry.meta.recordedAt;
      copy.append(canonicalJson(forgeContinuation(copy.entries(), stream, oldKey, { recordedAt: backdated })));
      expectFailureAt(
        await verify(copy),
        fixture.entries.length,
        new RegExp(`signed by key ${fixture.oldKid} after its revocation at position ${fixture.revokedAtPosition}`, 'u'),
      );
    });
  });
});

describe('ida-ledger verify: a ledger whose clock stands still', () => {
  it('verifies although its entries, the rotation and the revocation share one timestamp', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ida-ledger-fixed-clock-'));
    try {
      const at = new Date('2026-02-03T04:05:06.789Z');
      const ledger = await EmbeddedLedger.open({ dataDir: join(dir, 'data'), origin: 'fixed.test/log', checkpointEveryEntries: 4, checkpointEveryMs: 3_600_000, now: () => at });
      const meta = (n: number) => ({ tenant: 'acme', actor: { sub: 'orchestrator-1', role: 'pipeline' as const }, correlationId: 'c', causationId: null, commandId: `cmd-${n}`, recordedAt: at.toISOString() });
      for (let n = 0; n < 5; n++) await ledger.store.append({ stream: 'query-1', expectedRevision: 'any', events: [{ type: 'Step', schema: 1, data: { n } }], meta: meta(n) });
      const old = ledger.keyRing.currentKid();
      await ledger.rotateKey();
      await ledger.revokeKey(old, 'drill');
      for (let n = 5; n < 8; n++) await ledger.store.append({ stream: 'query-1', expectedRevision: 'any', events: [{ type: 'Step', schema: 1, data: { n } }], meta: meta(n) });
      await ledger.close();
      expect((await runCli(['export', '--data-dir', join(dir, 'data'), '--out', join(dir, 'export')])).code).toBe(0);
      for (const args of [['--export', join(dir, 'export')], ['--data-dir', join(dir, 'data')]]) {
        const result = await runCli(['verify', ...args]);
        expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 0, stdout: expect.stringMatching(/^OK: 11 entries verified; \d+ checkpoints match/u) });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('9. ida-ledger verify: bad usage exits 2', () => {
  it.each([
    ['no arguments at all', () => []],
    ['verify without a source', () => ['verify']],
    ['both --export and --data-dir', () => ['verify', '--export', fixture.exportDir, '--data-dir', fixture.dataDir]],
    ['an unknown option', () => ['verify', '--export', fixture.exportDir, '--no-such-option']],
    ['a missing export folder', () => ['verify', '--export', join(fixture.root, 'no-such-export')]],
    ['a missing data folder', () => ['verify', '--data-dir', join(fixture.root, 'no-such-data')]],
    ['a missing --checkpoint file', () => ['verify', '--export', fixture.exportDir, '--checkpoint', join(fixture.root, 'no-such.note')]],
    ['a missing --jwks file', () => ['verify', '--export', fixture.exportDir, '--jwks', join(fixture.root, 'no-such-jwks.json')]],
  ])('%s', async (_name, args) => {
    const result = await runCli(args());
    expect(result.code).toBe(2);
    expect(result.stdout).not.toMatch(/^(OK|FAIL)/mu);
  });
});

describe('the real binary: node dist/src/cli/ida-ledger.js verify', () => {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  const bin = join(repoRoot, 'dist', 'src', 'cli', 'ida-ledger.js');
  const { NODE_OPTIONS: _nodeOptions, ...env } = process.env;
  const spawn = (args: string[]) => {
    const child = spawnSync(process.execPath, [bin, ...args], { cwd: repoRoot, env, encoding: 'utf8', timeout: 20_000 });
    return { code: child.status, stdout: child.stdout, stderr: child.stderr };
  };

  beforeAll(() => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
  });

  it('exits 0 on the intact export and prints OK', () => {
    const result = spawn(['verify', '--export', fixture.exportDir]);
    expect(result).toEqual({ code: 0, stdout: expect.stringMatching(new RegExp(`^OK: ${fixture.entries.length} entries verified`, 'u')), stderr: expect.any(String) });
  });

  it('exits 0 with --json on the intact data folder', () => {
    const result = spawn(['verify', '--data-dir', fixture.dataDir, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, entries: fixture.entries.length });
  });

  it('exits 1 on a changed byte and names the position', () => {
    const copy = tamperable(fixture, 'data-dir');
    const target = middleEntry(fixture);
    const json = copy.records()[target.position]!.json;
    copy.setEntryJson(target.position, flipCharAt(json, valueIndex(json, 'commandId') + 2));
    const result = spawn(['verify', '--data-dir', copy.dataDir]);
    expect(result.code).toBe(1);
    expect(parseFailure(result.stdout)).toEqual({ position: target.position, reason: expect.stringMatching(/signature does not verify/u) });
  });

  it('exits 1 on a truncated export against a held checkpoint', () => {
    const copy = tamperable(fixture, 'export');
    const cut = fixture.entries.length - 2;
    copy.truncateFrom(cut, { dropLaterCheckpoints: true });
    const held = saveNote(scratchDir(fixture, 'held'), 'latest.note', fixture.checkpoints.at(-1)!.note);
    const result = spawn(['verify', '--export', copy.dir, '--checkpoint', held]);
    expect(result.code).toBe(1);
    expect(parseFailure(result.stdout)).toEqual({ position: cut, reason: expect.stringMatching(/truncated/u) });
  });

  it.each([
    ['no arguments', []],
    ['both sources', ['verify', '--export', 'a', '--data-dir', 'b']],
    ['an unknown option', ['verify', '--frobnicate']],
  ])('exits 2 on bad usage: %s', (_name, args) => {
    const result = spawn(args as string[]);
    expect(result.code).toBe(2);
    expect(result.stdout).not.toMatch(/^(OK|FAIL)/mu);
    expect(result.stderr.length + result.stdout.length).toBeGreaterThan(0);
  });
});
