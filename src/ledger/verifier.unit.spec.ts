import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { signCheckpoint } from './checkpoint.js';
import { canonicalJson } from './canonical-json.js';
import type { EntryMeta, JsonObject, SignedEntry, UnsignedEntry } from './entry.js';
import { signEntry } from './entry-signature.js';
import { entryLeafHash } from './hashing.js';
import { keyStream, signingKeyActivated, signingKeyRevoked, SYSTEM_TENANT } from './key-lifecycle.js';
import type { Jwks } from './key-ring.js';
import { MerkleTree } from './merkle.js';
import { generateSigningKey, type SigningKey } from './signing-key.js';
import { verifyLedger, type RawRecord, type VerifyReport } from './verifier.js';

/**
 * The offline verifier on in-memory ledgers built the way the log builds them: a self-signed
 * `SigningKeyActivated` first, entries chained per stream and signed, checkpoints over the Merkle tree, maybe a
 * key rotation. Untouched ledgers always verify; every single tampering is detected, at the tampered position
 * where the tampered entry itself is detectably wrong, and never after it otherwise.
 */

const ORIGIN = 'verifier.unit.test/log';
const KEY_A = generateSigningKey();
const KEY_B = generateSigningKey();
const JWKS: Jwks = { keys: [KEY_A, KEY_B].map((key) => ({ ...key.publicJwk, kid: key.kid, alg: 'EdDSA' as const, use: 'sig' as const })) };
const T0 = Date.parse('2026-03-01T12:00:00.000Z');

interface Step {
  stream: number;
  data: JsonObject;
}

interface LedgerSpec {
  steps: Step[];
  /** Index of the step before which KEY_B is activated and becomes the signing key (none when null). */
  rotateAt: number | null;
  checkpointEvery: number;
}

interface Built {
  /** The stored bytes of each entry, position = index. */
  json: string[];
  /** Published checkpoint notes, in increasing size. */
  checkpoints: Array<{ size: number; note: string }>;
}

function meta(tenant: string, n: number): EntryMeta {
  return {
    tenant,
    actor: tenant === SYSTEM_TENANT ? { sub: 'ida-ledger', role: 'system' } : { sub: `orchestrator-${n % 3}`, role: 'pipeline' },
    correlationId: `corr-${n}`,
    causationId: null,
    commandId: `cmd-${n}`,
    recordedAt: new Date(T0 + n * 1000).toISOString(),
  };
}

/** A ledger as the log writes it (what `SqliteEventStore` + `Checkpointer` produce), in memory. */
function buildLedger(spec: LedgerSpec): Built {
  const json: string[] = [];
  const heads = new Map<string, { revision: number; leaf: string }>();
  const tree = new MerkleTree();
  const checkpoints: Built['checkpoints'] = [];
  let signer: SigningKey = KEY_A;
  const add = (partial: Omit<UnsignedEntry, 'revision' | 'prev' | 'kid' | 'id' | 'schema'> & { schema?: number }, key: SigningKey) => {
    const head = heads.get(partial.stream);
    const entry = signEntry(
      {
        ...partial,
        schema: partial.schema ?? 1,
        id: `0190a3b2-0000-7000-8000-${String(json.length).padStart(12, '0')}`,
        revision: head ? head.revision + 1 : 0,
        prev: head ? head.leaf : null,
        kid: key.kid,
      },
      key,
    );
    const text = canonicalJson(entry);
    const leaf = entryLeafHash(entry);
    heads.set(entry.stream, { revision: entry.revision, leaf: leaf.toString('hex') });
    json.push(text);
    tree.append(leaf);
    if (tree.size % spec.checkpointEvery === 0)
      checkpoints.push({ size: tree.size, note: signCheckpoint({ origin: ORIGIN, size: tree.size, rootHash: tree.root() }, signer) });
  };
  const activate = (key: SigningKey) => {
    const event = signingKeyActivated(key);
    add({ stream: keyStream(key.kid), type: event.type, data: event.data, meta: meta(SYSTEM_TENANT, json.length) }, key);
  };

  activate(KEY_A);
  spec.steps.forEach((step, index) => {
    if (index === spec.rotateAt) {
      activate(KEY_B);
      signer = KEY_B;
    }
    const tenant = ['acme', 'globex', 'initech'][step.stream % 3]!;
    add({ stream: `query-${tenant}-${step.stream}`, type: 'SubAnswerRecorded', data: step.data, meta: meta(tenant, json.length) }, signer);
  });
  if (checkpoints.at(-1)?.size !== tree.size)
    checkpoints.push({ size: tree.size, note: signCheckpoint({ origin: ORIGIN, size: tree.size, rootHash: tree.root() }, signer) });
  return { json, checkpoints };
}

/** How the verifier receives the entries: with their stored bytes and leaf hash (store, export) or parsed only. */
type Mode = 'stored' | 'parsed';

function recordOf(position: unknown, text: string, mode: Mode): RawRecord {
  let entry: unknown = null;
  try {
    entry = JSON.parse(text);
  } catch {
    // an unparsable row reaches the verifier as a null entry (as the data-folder reader hands it)
  }
  return mode === 'stored' ? { position, entry, entryJson: text } : { position, entry };
}

const records = (texts: string[], mode: Mode): RawRecord[] => texts.map((text, position) => recordOf(position, text, mode));

function verify(input: RawRecord[], checkpoints: string[], held: string[] = []): Promise<VerifyReport> {
  return verifyLedger({ records: input, jwks: JWKS, checkpoints, heldCheckpoints: held });
}

const notes = (built: Built) => built.checkpoints.map((c) => c.note);

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

const dataArb: fc.Arbitrary<JsonObject> = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 6 }),
  fc.oneof(
    fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonObject[string]>,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(1e21, 5e-7, 1e-7, -0.5, 0.1 + 0.2),
  ),
  { maxKeys: 4 },
) as fc.Arbitrary<JsonObject>;

const specArb: fc.Arbitrary<LedgerSpec> = fc
  .record({
    steps: fc.array(fc.record({ stream: fc.nat({ max: 3 }), data: dataArb }), { minLength: 2, maxLength: 18 }),
    rotate: fc.option(fc.nat(), { nil: null }),
    checkpointEvery: fc.integer({ min: 1, max: 6 }),
  })
  .map(({ steps, rotate, checkpointEvery }) => ({ steps, rotateAt: rotate === null ? null : rotate % steps.length, checkpointEvery }));

const modeArb = fc.constantFrom<Mode>('stored', 'parsed');
/** Printable ASCII plus the characters that matter in JSON numbers and strings. */
const replacementArb = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  fc.constantFrom('E', 'e', '+', '-', '0', '.', '\\', '"', '\u00e9'),
);

const RUNS = { numRuns: 60 };

// ---------------------------------------------------------------------------------------------------------------

describe('verifyLedger on untouched ledgers', () => {
  it('always verifies, against every published checkpoint and any subset of them held by the auditor', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, modeArb, fc.array(fc.nat()), async (spec, mode, heldPicks) => {
        const built = buildLedger(spec);
        const held = heldPicks.map((pick) => built.checkpoints[pick % built.checkpoints.length]!.note);
        const report = await verify(records(built.json, mode), notes(built), held);
        expect(report.failure).toBeUndefined();
        expect(report).toMatchObject({ ok: true, entries: built.json.length, checkpointsVerified: built.checkpoints.length + held.length });
        expect(report.rootHash).toBe(built.checkpoints.at(-1)!.note.split('\n')[2]);
      }),
      RUNS,
    );
  });
});

describe('verifyLedger finds every single tampering', () => {
  it('a character changed anywhere in an entry: detected at exactly that position', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, modeArb, fc.nat(), fc.nat(), replacementArb, async (spec, mode, entryPick, charPick, replacement) => {
        const built = buildLedger(spec);
        const position = entryPick % built.json.length;
        const original = built.json[position]!;
        const at = charPick % original.length;
        fc.pre(original[at] !== replacement);
        const tampered = original.slice(0, at) + replacement + original.slice(at + 1);
        if (mode === 'parsed') {
          // Without the stored bytes only a changed value can be seen (`1E21` for `1e21` parses to the same).
          let same = false;
          try {
            same = canonicalJson(JSON.parse(tampered) as JsonObject) === original;
          } catch {
            // not JSON, or not representable: a change
          }
          fc.pre(!same);
        }
        const input = records(built.json, mode);
        input[position] = recordOf(position, tampered, mode);
        const report = await verify(input, notes(built));
        expect(report.ok).toBe(false);
        expect(report.failure!.position).toBe(position);
      }),
      { numRuns: 200 },
    );
  });

  it('an entry deleted (later positions kept): detected at its position', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, modeArb, fc.nat(), async (spec, mode, pick) => {
        const built = buildLedger(spec);
        const position = pick % built.json.length;
        const input = records(built.json, mode).filter((record) => record.position !== position);
        const report = await verify(input, notes(built));
        expect(report.ok).toBe(false);
        expect(report.failure!.position).toBe(position);
      }),
      RUNS,
    );
  });

  it('an entry deleted and the later ones renumbered to close the gap: detected', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, modeArb, fc.nat(), async (spec, mode, pick) => {
        const built = buildLedger(spec);
        const position = pick % built.json.length;
        const report = await verify(records(built.json.filter((_, index) => index !== position), mode), notes(built));
        expect(report.ok).toBe(false);
        // Everything a matching checkpoint covers before the deletion is intact: the blame never falls there.
        expect(report.failure!.position).toBeGreaterThanOrEqual(lastCheckpointAtOrBefore(built, position));
      }),
      RUNS,
    );
  });

  it('an entry replayed right after itself (renumbered or not): detected at the copy', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, modeArb, fc.nat(), fc.boolean(), async (spec, mode, pick, renumber) => {
        const built = buildLedger(spec);
        const position = pick % built.json.length;
        const input = renumber
          ? records([...built.json.slice(0, position + 1), built.json[position]!, ...built.json.slice(position + 1)], mode)
          : [...records(built.json, mode).slice(0, position + 1), recordOf(position, built.json[position]!, mode), ...records(built.json, mode).slice(position + 1)];
        const report = await verify(input, notes(built));
        expect(report.ok).toBe(false);
        expect(report.failure!.position).toBe(position + 1);
      }),
      RUNS,
    );
  });

  it('two adjacent entries swapped as whole records (positions travel with them): detected at the first', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, modeArb, fc.nat(), async (spec, mode, pick) => {
        const built = buildLedger(spec);
        const position = pick % (built.json.length - 1);
        const input = records(built.json, mode);
        [input[position], input[position + 1]] = [input[position + 1]!, input[position]!];
        const report = await verify(input, notes(built));
        expect(report.failure).toEqual({ position, reason: expect.stringMatching(/expected position/u) });
      }),
      RUNS,
    );
  });

  it('two adjacent entries swapped in place (positions renumbered): detected at or before the first', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, modeArb, fc.nat(), async (spec, mode, pick) => {
        const built = buildLedger(spec);
        const position = pick % (built.json.length - 1);
        const texts = [...built.json];
        [texts[position], texts[position + 1]] = [texts[position + 1]!, texts[position]!];
        const report = await verify(records(texts, mode), notes(built));
        expect(report.ok).toBe(false);
        expect(report.failure!.position).toBeLessThanOrEqual(position);
        expect(report.failure!.position).toBeGreaterThanOrEqual(lastCheckpointAtOrBefore(built, position));
      }),
      RUNS,
    );
  });

  it('a tail cut behind a checkpoint the auditor holds (later published checkpoints removed): "truncated" at the cut', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, modeArb, fc.nat(), fc.nat(), async (spec, mode, cutPick, heldPick) => {
        const built = buildLedger(spec);
        const cut = cutPick % built.json.length; // keeps 0..n-1 entries
        const beyond = built.checkpoints.filter((c) => c.size > cut);
        const held = beyond[heldPick % beyond.length]!.note;
        const published = built.checkpoints.filter((c) => c.size <= cut).map((c) => c.note);
        const report = await verify(records(built.json.slice(0, cut), mode), published, [held]);
        expect(report.failure).toEqual({ position: cut, reason: expect.stringMatching(/truncated/u) });
        // Without the held checkpoint nothing contradicts the shorter log.
        expect((await verify(records(built.json.slice(0, cut), mode), published)).ok).toBe(true);
      }),
      RUNS,
    );
  });
});

function lastCheckpointAtOrBefore(built: Built, position: number): number {
  return Math.max(0, ...built.checkpoints.map((c) => c.size).filter((size) => size <= position));
}

// ---------------------------------------------------------------------------------------------------------------

describe('verifyLedger: which position and reason it names', () => {
  const spec: LedgerSpec = {
    steps: Array.from({ length: 12 }, (_, n) => ({ stream: n % 2, data: { n, answer: `answer ${n}` } })),
    rotateAt: null,
    checkpointEvery: 4,
  };

  it('a changed entry inside a checkpoint range: the entry, not the start of the range', async () => {
    const built = buildLedger(spec);
    const input = records(built.json, 'stored');
    input[6] = recordOf(6, built.json[6]!.replace('answer 5', 'answer 9'), 'stored');
    const report = await verify(input, notes(built));
    expect(report.failure).toEqual({ position: 6, reason: expect.stringMatching(/signature does not verify/u) });
  });

  it('entries of two streams swapped in place: the start of the first checkpoint range that no longer matches', async () => {
    const built = buildLedger(spec);
    const texts = [...built.json];
    [texts[5], texts[6]] = [texts[6]!, texts[5]!];
    const report = await verify(records(texts, 'stored'), notes(built));
    expect(report.failure).toEqual({ position: 4, reason: expect.stringMatching(/checkpoint of size 8 does not match the entries from position 4/u) });
  });

  it('a stored leaf hash that is not the hash of the entry', async () => {
    const built = buildLedger(spec);
    const input = records(built.json, 'stored');
    const leaf = entryLeafHash(JSON.parse(built.json[3]!) as SignedEntry);
    leaf[0] ^= 0xff;
    input[3] = { ...input[3]!, leafHash: leaf };
    const report = await verify(input, notes(built));
    expect(report.failure).toEqual({ position: 3, reason: expect.stringMatching(/leaf hash/u) });
    input[3] = { ...input[3]!, leafHash: entryLeafHash(JSON.parse(built.json[3]!) as SignedEntry) };
    expect((await verify(input, notes(built))).ok).toBe(true);
  });

  it('stored bytes that are not RFC 8785 although they parse to the entry (members reordered, a space)', async () => {
    const built = buildLedger(spec);
    const entry = JSON.parse(built.json[5]!) as SignedEntry;
    const { stream, ...rest } = entry;
    for (const text of [JSON.stringify({ stream, ...rest }), built.json[5]!.replace('"data":{', '"data": {')]) {
      const input = records(built.json, 'stored');
      input[5] = recordOf(5, text, 'stored');
      expect(input[5]!.entry).toEqual(entry);
      const report = await verify(input, notes(built));
      expect(report.failure).toEqual({ position: 5, reason: expect.stringMatching(/bytes changed|signature does not verify/u) });
    }
  });

  it('a record its source could not read', async () => {
    const built = buildLedger(spec);
    const input = records(built.json, 'stored');
    input[2] = { position: undefined, entry: null, problem: 'line 3 is not JSON' };
    expect((await verify(input, notes(built))).failure).toEqual({ position: 2, reason: 'line 3 is not JSON' });
  });

  it('an entry JSON cannot carry exactly (a lone surrogate): a failure at its position, not an exception', async () => {
    const built = buildLedger(spec);
    const input = records(built.json, 'parsed');
    const entry = JSON.parse(built.json[4]!) as SignedEntry;
    input[4] = { position: 4, entry: { ...entry, data: { ...entry.data, answer: '\ud800' } } };
    expect((await verify(input, notes(built))).failure).toEqual({ position: 4, reason: expect.stringMatching(/RFC 8785/u) });
  });

  it('an empty ledger verifies; one shorter than a held checkpoint is truncated at 0', async () => {
    const built = buildLedger(spec);
    expect((await verify([], [])).ok).toBe(true);
    expect((await verify([], [], [built.checkpoints[0]!.note])).failure).toEqual({ position: 0, reason: expect.stringMatching(/truncated/u) });
  });

  describe('key validity', () => {
    /** Entries 0..k: A activated, tenant entries by A, B activated, A revoked (signed by B), entries by B. */
    function rotatedAndRevoked(at: (n: number) => string) {
      const texts: string[] = [];
      const heads = new Map<string, SignedEntry>();
      const tree = new MerkleTree();
      const append = (stream: string, type: string, data: JsonObject, tenant: string, key: SigningKey) => {
        const head = heads.get(stream);
        const entry = signEntry(
          {
            stream,
            revision: head ? head.revision + 1 : 0,
            id: `id-${texts.length}`,
            type,
            schema: 1,
            data,
            meta: { ...meta(tenant, texts.length), recordedAt: at(texts.length) },
            prev: head ? entryLeafHash(head).toString('hex') : null,
            kid: key.kid,
          },
          key,
        );
        heads.set(stream, entry);
        texts.push(canonicalJson(entry));
        tree.append(entryLeafHash(entry));
        return entry;
      };
      const activation = (key: SigningKey) => {
        const event = signingKeyActivated(key);
        append(keyStream(key.kid), event.type, event.data, SYSTEM_TENANT, key);
      };
      activation(KEY_A);
      append('query-acme-1', 'QuerySubmitted', { q: 1 }, 'acme', KEY_A);
      activation(KEY_B);
      const revoked = signingKeyRevoked(KEY_A.kid, 'drill');
      const revocation = append(keyStream(KEY_A.kid), revoked.type, revoked.data, SYSTEM_TENANT, KEY_B);
      append('query-acme-1', 'AnswerAccepted', { a: 1 }, 'acme', KEY_B);
      const jwks: Jwks = {
        keys: [
          { ...JWKS.keys[0]!, revokedAt: revocation.meta.recordedAt },
          { ...JWKS.keys[1]! },
        ],
      };
      return { texts, heads, tree, append, jwks, revokedAt: revocation.meta.recordedAt };
    }

    it('entries, rotation and revocation recorded in the same millisecond verify (revokedAt is exclusive)', async () => {
      const ledger = rotatedAndRevoked(() => '2026-03-01T12:00:00.000Z');
      const report = await verifyLedger({ records: records(ledger.texts, 'stored'), jwks: ledger.jwks });
      expect(report.failure).toBeUndefined();
    });

    it('an entry signed by the revoked key after its revocation, however it is dated', async () => {
      const ledger = rotatedAndRevoked((n) => new Date(T0 + n * 1000).toISOString());
      ledger.append('query-acme-1', 'HumanOverrideRecorded', { forged: true }, 'acme', KEY_A);
      const report = await verifyLedger({ records: records(ledger.texts, 'stored'), jwks: ledger.jwks });
      expect(report.failure).toEqual({ position: 5, reason: `signed by key ${KEY_A.kid} after its revocation at position 3` });
    });

    it('an entry the auditor\'s JWKS dates after the revocation, in a log that lacks the revocation entry', async () => {
      const ledger = rotatedAndRevoked((n) => new Date(T0 + n * 1000).toISOString());
      // Keep entries 0..2 (no revocation in the log), then one by A dated after the auditor's revokedAt.
      const texts = ledger.texts.slice(0, 3);
      const head = JSON.parse(texts[1]!) as SignedEntry;
      const late = signEntry(
        {
          ...head,
          revision: 1,
          id: 'id-late',
          prev: entryLeafHash(head).toString('hex'),
          meta: { ...head.meta, recordedAt: new Date(Date.parse(ledger.revokedAt) + 1).toISOString() },
        },
        KEY_A,
      );
      const report = await verifyLedger({ records: records([...texts, canonicalJson(late)], 'stored'), jwks: ledger.jwks });
      expect(report.failure).toEqual({ position: 3, reason: expect.stringMatching(/after its revocation at 20/u) });
    });

    it('an entry signed by a key the JWKS does not hold, or one the log never activated', async () => {
      const ledger = rotatedAndRevoked((n) => new Date(T0 + n * 1000).toISOString());
      const stranger = generateSigningKey();
      ledger.append('query-acme-1', 'HumanOverrideRecorded', { forged: true }, 'acme', stranger);
      expect((await verifyLedger({ records: records(ledger.texts, 'stored'), jwks: ledger.jwks })).failure).toEqual({
        position: 5,
        reason: `signed by unknown key ${stranger.kid}`,
      });
      const trusting: Jwks = { keys: [...ledger.jwks.keys, { ...stranger.publicJwk, kid: stranger.kid, alg: 'EdDSA', use: 'sig' }] };
      expect((await verifyLedger({ records: records(ledger.texts, 'stored'), jwks: trusting })).failure).toEqual({
        position: 5,
        reason: `signed by key ${stranger.kid} before its SigningKeyActivated entry`,
      });
    });
  });
});
