/**
 * The auditor-facing HTTP API against the real application (SQLite store, signed entries, JWT auth):
 * tenant-scoped reads of the raw log, signed C2SP checkpoints, RFC 9162 proofs checked with our own verifiers,
 * the JWKS and key rotation / revocation (each itself a log entry), every entry's JWS checked with jose, and
 * the public surface (health, OpenAPI).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint, flattenedVerify, importJWK, type JWK } from 'jose';
import request from 'supertest';
import { canonicalJson } from '../src/ledger/canonical-json.js';
import { parseVerifierKey, verifyCheckpointNote } from '../src/ledger/checkpoint.js';
import type { IntegratedEntry, SignedEntry } from '../src/ledger/entry.js';
import { entryLeafHash } from '../src/ledger/hashing.js';
import { MerkleTree, verifyConsistency, verifyInclusion } from '../src/ledger/merkle.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const PROBLEM = /^application\/problem\+json/u;
const ACME = 'acme';
const GLOBEX = 'globex';
const SYSTEM = 'system';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/u;

type Role = Parameters<TestApp['token']>[0];

interface WireEntry {
  position: number;
  leafHash: string;
  entry: SignedEntry;
}

interface JwksKey {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: string;
  use: string;
  validFrom: string;
  revokedAt?: string;
}

const b64 = (text: string) => Buffer.from(text, 'base64');

/** A small world on its own app: tokens by name, and helpers to write through the amplification API. */
class World {
  readonly tokens: Record<string, string> = {};
  constructor(readonly t: TestApp) {}

  static async create(): Promise<World> {
    const world = new World(await createTestApp());
    const mint = async (name: string, role: Role, tenant: string, sub?: string) => {
      world.tokens[name] = await world.t.token(role, tenant, sub);
    };
    await Promise.all([
      mint('pipeline', 'pipeline', ACME, 'svc-acme'),
      mint('overseer', 'overseer', ACME, 'alice'),
      mint('auditor', 'auditor', ACME, 'audrey'),
      mint('admin', 'admin', ACME, 'root'),
      mint('compliance', 'compliance', ACME, 'carl'),
      mint('worker', 'worker', ACME, 'gpu-1'),
      mint('pipelineG', 'pipeline', GLOBEX, 'svc-globex'),
      mint('auditorG', 'auditor', GLOBEX, 'gus'),
    ]);
    return world;
  }

  get api() {
    return request(this.t.server);
  }

  bearer(name: string) {
    return { Authorization: `Bearer ${this.tokens[name]}` };
  }

  get(path: string, who?: string) {
    const req = this.api.get(path);
    return who === undefined ? req : req.set(this.bearer(who));
  }

  post(path: string, who: string, body?: object) {
    const req = this.api.post(path).set(this.bearer(who));
    return body === undefined ? req : req.send(body);
  }

  async openQuery(who: string, task: string): Promise<{ queryId: string; rootNodeId: string }> {
    const res = await this.post('/v1/queries', who, { task, input: { task } }).expect(201);
    return res.body as { queryId: string; rootNodeId: string };
  }

  async decompose(who: string, queryId: string, nodeId: string, subquestions: string[]): Promise<string[]> {
    const res = await this.post(`/v1/queries/${queryId}/nodes/${nodeId}/decompose`, who, { subquestions }).expect(200);
    return res.body.childNodeIds as string[];
  }

  /** Every entry of the log, whatever the tenant (the ledger object, not the tenant-scoped API). */
  async allEntries(): Promise<IntegratedEntry[]> {
    return this.t.ledger.store.readAll(0, 100_000);
  }

  /** Pages through `GET /v1/entries` as `who`, following nextFrom. */
  async readEntries(who: string, limit: number): Promise<WireEntry[]> {
    const out: WireEntry[] = [];
    let from: number | null = 0;
    for (let pages = 0; from !== null; pages++) {
      if (pages > 1000) throw new Error('paging does not end');
      const res = await this.get(`/v1/entries?from=${from}&limit=${limit}`, who).expect(200);
      expect(res.body.entries.length).toBeLessThanOrEqual(limit);
      out.push(...(res.body.entries as WireEntry[]));
      from = res.body.nextFrom as number | null;
    }
    return out;
  }

  /** Issues a checkpoint of the current tree now (the service does so every N entries / T ms). */
  async checkpointNow(): Promise<void> {
    await this.t.ledger.checkpointer.issueIfGrown();
  }

  /** The latest checkpoint from the API, verified against the API's verifier key. */
  async checkpoint(who = 'auditor'): Promise<{ origin: string; size: number; rootHash: Buffer; note: string; vkey: string }> {
    const note = await this.get('/v1/checkpoint', who).expect(200);
    expect(note.headers['content-type']).toMatch(/^text\/plain/u);
    const vkey = await this.get('/v1/checkpoint/verifier-key', who).expect(200);
    expect(vkey.headers['content-type']).toMatch(/^text\/plain/u);
    const check = verifyCheckpointNote(note.text, parseVerifierKey(vkey.text));
    if (!check.ok) throw new Error(`checkpoint does not verify: ${check.reason}`);
    return { ...check.body, note: note.text, vkey: vkey.text.trim() };
  }

  async jwks(): Promise<JwksKey[]> {
    const res = await this.api.get('/.well-known/jwks.json').expect(200);
    return res.body.keys as JwksKey[];
  }
}

function rootOf(entries: readonly IntegratedEntry[], size = entries.length): Buffer {
  const tree = new MerkleTree();
  for (const { entry } of entries.slice(0, size)) tree.append(entryLeafHash(entry));
  return tree.root();
}

function expectProblem(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(PROBLEM);
  expect(res.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
}

/** jose's verification of an entry's detached, unencoded-payload JWS (RFC 7797) with a JWKS key. */
async function joseVerifyEntry(entry: SignedEntry, jwk: JwksKey): Promise<void> {
  const { sig, ...unsigned } = entry;
  const [protectedHeader, payload, signature] = sig.split('.');
  expect(payload).toBe('');
  const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JWK, 'EdDSA');
  const result = await flattenedVerify(
    { protected: protectedHeader!, signature: signature!, payload: new TextEncoder().encode(canonicalJson(unsigned)) },
    key,
  );
  expect(result.protectedHeader).toEqual({ alg: 'EdDSA', b64: false, crit: ['b64'], kid: entry.kid });
}

describe('audit API: entries, checkpoints and proofs', () => {
  let w: World;
  const acmeQueries: { queryId: string; rootNodeId: string }[] = [];
  const globexQueries: { queryId: string; rootNodeId: string }[] = [];

  beforeAll(async () => {
    w = await World.create();
    // Interleave two tenants so that acme's positions have gaps where globex wrote.
    for (let i = 0; i < 4; i++) {
      acmeQueries.push(await w.openQuery('pipeline', `acme question ${i}`));
      globexQueries.push(await w.openQuery('pipelineG', `globex question ${i}`));
    }
    await w.decompose('pipeline', acmeQueries[0]!.queryId, acmeQueries[0]!.rootNodeId, ['a?', 'b?']);
    await w.decompose('pipelineG', globexQueries[1]!.queryId, globexQueries[1]!.rootNodeId, ['g?']);
    await w.post(`/v1/queries/${acmeQueries[1]!.queryId}/nodes/${acmeQueries[1]!.rootNodeId}/answer`, 'overseer', { answer: 'yes' }).expect(200);
  });

  afterAll(async () => {
    await w?.t.close();
  });

  describe('GET /v1/entries', () => {
    it("shows an auditor its own tenant's and the system's entries, in position order, exactly as signed", async () => {
      const all = await w.allEntries();
      expect(new Set(all.map((e) => e.entry.meta.tenant))).toEqual(new Set([SYSTEM, ACME, GLOBEX]));

      const res = await w.get('/v1/entries?limit=1000', 'auditor').expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/u);
      expect(res.body.size).toBe(all.length);
      expect(res.body.nextFrom).toBeNull();
      const seen = res.body.entries as WireEntry[];

      const expected = all.filter((e) => e.entry.meta.tenant === ACME || e.entry.meta.tenant === SYSTEM);
      expect(seen).toEqual(expected.map(({ position, leafHash, entry }) => ({ position, leafHash, entry })));
      // Global positions (with gaps where globex wrote), strictly increasing.
      expect(seen.map((e) => e.position)).toEqual([...seen.map((e) => e.position)].sort((a, b) => a - b));
      expect(new Set(seen.map((e) => e.position)).size).toBe(seen.length);
      expect(seen.some((e, i) => i > 0 && e.position > seen[i - 1]!.position + 1)).toBe(true);
      // The key activation at position 0 is the system's; nothing of globex.
      expect(seen[0]).toMatchObject({ position: 0, entry: { type: 'SigningKeyActivated', meta: { tenant: SYSTEM } } });
      expect(seen.every((e) => e.entry.meta.tenant !== GLOBEX)).toBe(true);
      for (const q of globexQueries) expect(seen.some((e) => e.entry.stream === `query-${q.queryId}`)).toBe(false);
      for (const q of acmeQueries) expect(seen.some((e) => e.entry.stream === `query-${q.queryId}`)).toBe(true);
      // Each leafHash is SHA-256(0x00 || JCS(entry)) of the entry as served.
      for (const e of seen) expect(e.leafHash).toBe(entryLeafHash(e.entry).toString('hex'));
    });

    it("shows globex's auditor globex's and the system's entries, never acme's", async () => {
      const seen = await w.readEntries('auditorG', 1000);
      const tenants = new Set(seen.map((e) => e.entry.meta.tenant));
      expect(tenants).toEqual(new Set([GLOBEX, SYSTEM]));
      const all = await w.allEntries();
      expect(seen.map((e) => e.position)).toEqual(
        all.filter((e) => e.entry.meta.tenant !== ACME).map((e) => e.position),
      );
    });

    it('an admin reads its own tenant as well', async () => {
      const res = await w.get('/v1/entries', 'admin').expect(200);
      const tenants = new Set((res.body.entries as WireEntry[]).map((e) => e.entry.meta.tenant));
      expect(tenants).toEqual(new Set([ACME, SYSTEM]));
    });

    it('pages with nextFrom: small pages put together are the whole view', async () => {
      const whole = (await w.get('/v1/entries?limit=1000', 'auditor').expect(200)).body.entries as WireEntry[];
      for (const limit of [1, 2, 3]) expect(await w.readEntries('auditor', limit)).toEqual(whole);

      const first = await w.get('/v1/entries?from=0&limit=2', 'auditor').expect(200);
      expect(first.body.entries).toHaveLength(2);
      expect(first.body.nextFrom).toBe(first.body.entries[1].position + 1);
      // from is a global position: starting inside globex's run skips to acme's next entry.
      const third = whole[2]!;
      const mid = await w.get(`/v1/entries?from=${third.position}&limit=1`, 'auditor').expect(200);
      expect(mid.body.entries).toEqual([third]);
      // Past the end: empty, no next page.
      const end = await w.get(`/v1/entries?from=${whole.at(-1)!.position + 1}`, 'auditor').expect(200);
      expect(end.body).toMatchObject({ entries: [], nextFrom: null });
    });

    it.each([
      ['limit=0'],
      ['limit=5000'],
      ['limit=1001'],
      ['limit=1.5'],
      ['limit=abc'],
      ['from=-1'],
      ['from=abc'],
      ['from=1e400'],
      ['from='],
      ['from=0x10'],
      ['limit=1e2'],
      ['limit=+5'],
      ['from=1&from=2'],
      ['from=0&foo=1'],
      ['tenant=globex'],
    ])('refuses ?%s with 400 problem+json', async (query) => {
      const res = await w.get(`/v1/entries?${query}`, 'auditor');
      expectProblem(res, 400, 'REQUEST.VALIDATION_FAILED');
    });

    it('refuses the roles that are not auditors (403) and a missing or bad token (401)', async () => {
      for (const who of ['pipeline', 'overseer', 'worker', 'compliance', 'pipelineG'])
        expectProblem(await w.get('/v1/entries', who), 403, 'AUTH.FORBIDDEN_ROLE');
      expectProblem(await w.get('/v1/entries'), 401, 'AUTH.UNAUTHENTICATED');
      expectProblem(await w.api.get('/v1/entries').set('Authorization', 'Bearer not.a.jwt'), 401, 'AUTH.UNAUTHENTICATED');
    });
  });

  describe('GET /v1/checkpoint', () => {
    it('serves a C2SP signed note that verifies with the verifier key and commits to every entry', async () => {
      await w.checkpointNow();
      const cp = await w.checkpoint();
      const all = await w.allEntries();
      expect(cp.origin).toBe(w.t.config.origin);
      expect(cp.size).toBe(all.length);
      expect(cp.rootHash.equals(rootOf(all))).toBe(true);
      expect(cp.rootHash.equals(w.t.ledger.tree.root())).toBe(true);
      // The note's text and the key name.
      const [origin, size, root, blank, signature] = cp.note.split('\n');
      expect([origin, size, root, blank]).toEqual([w.t.config.origin, String(all.length), cp.rootHash.toString('base64'), '']);
      expect(signature).toMatch(new RegExp(`^\u2014 ${w.t.config.origin.replace(/[.*+?^${}()|[\]\\/]/gu, '\\$&')} [A-Za-z0-9+/]+=*$`, 'u'));
      expect(cp.vkey.startsWith(`${w.t.config.origin}+`)).toBe(true);
      // The root recomputed from the auditor's own view of the leaf hashes: the API's leaf hashes are the tree's.
      const seen = await w.readEntries('auditor', 1000);
      for (const e of seen) expect(w.t.ledger.tree.leaf(e.position).toString('hex')).toBe(e.leafHash);
    });

    it('a changed byte of the note does not verify', async () => {
      const cp = await w.checkpoint();
      const vkey = parseVerifierKey(cp.vkey);
      const forged = cp.note.replace(`\n${cp.size}\n`, `\n${cp.size + 1}\n`);
      expect(verifyCheckpointNote(forged, vkey).ok).toBe(false);
      const otherRoot = cp.note.replace(cp.rootHash.toString('base64'), Buffer.alloc(32, 7).toString('base64'));
      expect(verifyCheckpointNote(otherRoot, vkey).ok).toBe(false);
    });

    it('stays at the last issued size until the next checkpoint is issued, which then covers the new entries', async () => {
      const before = await w.checkpoint();
      await w.openQuery('pipeline', 'after the checkpoint');
      const stale = await w.checkpoint();
      expect(stale.size).toBe(before.size);
      await w.checkpointNow();
      const next = await w.checkpoint();
      expect(next.size).toBe(before.size + 1);
      expect(next.rootHash.equals(rootOf(await w.allEntries()))).toBe(true);
    });

    it('is readable by every role with a token, not without one', async () => {
      for (const who of ['pipeline', 'overseer', 'worker', 'compliance', 'admin', 'auditorG']) await w.get('/v1/checkpoint', who).expect(200);
      expectProblem(await w.get('/v1/checkpoint'), 401, 'AUTH.UNAUTHENTICATED');
      expectProblem(await w.get('/v1/checkpoint/verifier-key'), 401, 'AUTH.UNAUTHENTICATED');
    });
  });

  describe('GET /v1/proofs/inclusion and /v1/proofs/consistency', () => {
    let older: { size: number; rootHash: Buffer };
    let newer: { size: number; rootHash: Buffer };
    let all: IntegratedEntry[];

    beforeAll(async () => {
      await w.checkpointNow();
      older = await w.checkpoint();
      // Grow the log by an odd number of entries in both tenants, then publish again.
      const q = await w.openQuery('pipeline', 'proof material');
      await w.decompose('pipeline', q.queryId, q.rootNodeId, ['x?', 'y?', 'z?']);
      await w.openQuery('pipelineG', 'globex proof material');
      await w.checkpointNow();
      newer = await w.checkpoint();
      all = await w.allEntries();
      expect(newer.size).toBe(older.size + 3);
      expect(all).toHaveLength(newer.size);
    });

    it('inclusion proofs of every entry verify against the checkpoint roots', async () => {
      for (const { size, rootHash } of [older, newer]) {
        for (let index = 0; index < size; index++) {
          const res = await w.get(`/v1/proofs/inclusion?index=${index}&size=${size}`, 'auditor').expect(200);
          const leaf = entryLeafHash(all[index]!.entry);
          expect(res.body).toMatchObject({ index, size, leafHash: leaf.toString('base64'), rootHash: rootHash.toString('base64') });
          const proof = (res.body.proof as string[]).map(b64);
          expect(verifyInclusion(leaf, index, size, proof, rootHash)).toBe(true);
          // The same proof does not prove another leaf, or the leaf at another index.
          const other = entryLeafHash(all[(index + 1) % size]!.entry);
          if (size > 1) expect(verifyInclusion(other, index, size, proof, rootHash)).toBe(false);
          if (size > 1) expect(verifyInclusion(leaf, (index + 1) % size, size, proof, rootHash)).toBe(false);
        }
      }
    });

    it('an inclusion proof without size is against the current tree', async () => {
      const res = await w.get('/v1/proofs/inclusion?index=0', 'pipeline').expect(200);
      expect(res.body.size).toBe(all.length);
      expect(verifyInclusion(entryLeafHash(all[0]!.entry), 0, all.length, (res.body.proof as string[]).map(b64), rootOf(all))).toBe(true);
    });

    it('consistency proofs between checkpoints verify, and every prefix is consistent with the newest', async () => {
      const res = await w.get(`/v1/proofs/consistency?from=${older.size}&to=${newer.size}`, 'auditor').expect(200);
      expect(res.body).toMatchObject({
        from: older.size,
        to: newer.size,
        fromRootHash: older.rootHash.toString('base64'),
        toRootHash: newer.rootHash.toString('base64'),
      });
      const proof = (res.body.proof as string[]).map(b64);
      expect(verifyConsistency(older.size, newer.size, older.rootHash, newer.rootHash, proof)).toBe(true);
      // A forged older root is not consistent.
      expect(verifyConsistency(older.size, newer.size, Buffer.alloc(32, 1), newer.rootHash, proof)).toBe(false);

      for (let from = 0; from <= newer.size; from++) {
        const r = await w.get(`/v1/proofs/consistency?from=${from}`, 'admin').expect(200);
        expect(r.body.to).toBe(newer.size);
        expect(b64(r.body.fromRootHash).equals(rootOf(all, from))).toBe(true);
        expect(verifyConsistency(from, newer.size, rootOf(all, from), newer.rootHash, (r.body.proof as string[]).map(b64))).toBe(true);
      }
    });

    it.each([
      ['inclusion?index=SIZE', 'index at the size'],
      ['inclusion?index=0&size=SIZE+1', 'size beyond the log'],
      ['inclusion?index=3&size=3', 'index equal to size'],
      ['inclusion?index=0&size=0', 'the empty tree'],
      ['consistency?from=SIZE+1', 'from beyond the log'],
      ['consistency?from=0&to=SIZE+1', 'to beyond the log'],
      ['consistency?from=3&to=2', 'from beyond to'],
    ])('%s (%s) → 422 PROOF.OUT_OF_RANGE', async (template) => {
      const size = all.length;
      const path = template.replace('SIZE+1', String(size + 1)).replace('SIZE', String(size));
      const res = await w.get(`/v1/proofs/${path}`, 'auditor');
      expectProblem(res, 422, 'PROOF.OUT_OF_RANGE');
      expect(res.body.treeSize).toBe(size);
    });

    it.each([
      'inclusion',
      'inclusion?index=',
      'inclusion?index=abc',
      'inclusion?index=0x1',
      'inclusion?index=1e0',
      'inclusion?index=0&size=',
      'inclusion?index=0&size=99999999999999999999',
      'inclusion?index=-1',
      'inclusion?index=1.5',
      'inclusion?index=0&size=x',
      'inclusion?index=0&leaf=1',
      'consistency',
      'consistency?from=-1',
      'consistency?from=',
      'consistency?from=0&to=%201',
      'consistency?from=a&to=2',
      'consistency?from=1&to=2.5',
      'consistency?from=1&size=2',
    ])('%s → 400 problem+json', async (path) => {
      expectProblem(await w.get(`/v1/proofs/${path}`, 'auditor'), 400, 'REQUEST.VALIDATION_FAILED');
    });

    it('need a token', async () => {
      expectProblem(await w.get('/v1/proofs/inclusion?index=0'), 401, 'AUTH.UNAUTHENTICATED');
      expectProblem(await w.get('/v1/proofs/consistency?from=0'), 401, 'AUTH.UNAUTHENTICATED');
    });
  });
});

describe('audit API: keys (JWKS, rotation, revocation)', () => {
  let w: World;

  beforeAll(async () => {
    w = await World.create();
    await w.openQuery('pipeline', 'signed by the first key');
    await w.openQuery('pipelineG', 'globex, first key');
  });

  afterAll(async () => {
    await w?.t.close();
  });

  it('serves the JWKS publicly: one Ed25519 key whose kid is its RFC 7638 thumbprint, with validFrom', async () => {
    const res = await w.api.get('/.well-known/jwks.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/jwk-set\+json/u);
    const keys = res.body.keys as JwksKey[];
    expect(keys).toHaveLength(1);
    const [key] = keys as [JwksKey];
    expect(key).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: expect.any(String), alg: 'EdDSA', use: 'sig', validFrom: expect.stringMatching(ISO) });
    expect(Buffer.from(key.x, 'base64url')).toHaveLength(32);
    expect(key.kid).toBe(await calculateJwkThumbprint({ kty: key.kty, crv: key.crv, x: key.x }, 'sha256'));
    expect(key.kid).toBe(w.t.ledger.keyRing.currentKid());
    // No private material.
    expect(JSON.stringify(res.body)).not.toMatch(/"d"/u);
    // The activation is the log's first entry, signed by the key itself.
    const [first] = await w.allEntries();
    expect(first).toMatchObject({
      position: 0,
      entry: { type: 'SigningKeyActivated', stream: `key-${key.kid}`, kid: key.kid, data: { kid: key.kid }, meta: { tenant: SYSTEM, recordedAt: key.validFrom } },
    });
  });

  it('rotate and revoke are admin-only', async () => {
    for (const who of ['auditor', 'pipeline', 'overseer', 'compliance', 'worker'])
      expectProblem(await w.post('/v1/keys/rotate', who), 403, 'AUTH.FORBIDDEN_ROLE');
    expectProblem(await w.api.post('/v1/keys/rotate'), 401, 'AUTH.UNAUTHENTICATED');
    const [key] = await w.jwks();
    expectProblem(await w.post(`/v1/keys/${key!.kid}/revoke`, 'auditor', { reason: 'x' }), 403, 'AUTH.FORBIDDEN_ROLE');
    expectProblem(await w.api.post(`/v1/keys/${key!.kid}/revoke`).send({ reason: 'x' }), 401, 'AUTH.UNAUTHENTICATED');
    expect(await w.jwks()).toHaveLength(1);
  });

  it('rotation: a second key, new entries and checkpoints signed with it; revocation of the old key is a log entry', async () => {
    const [oldKey] = (await w.jwks()) as [JwksKey];
    await w.checkpointNow();
    const oldCheckpoint = await w.checkpoint();
    const sizeBefore = (await w.allEntries()).length;

    // Rotate.
    const rotated = await w.post('/v1/keys/rotate', 'admin').expect(201);
    expect(rotated.body).toEqual({ kid: expect.any(String), activatedAt: expect.stringMatching(ISO), position: sizeBefore });
    const newKid = rotated.body.kid as string;
    expect(newKid).not.toBe(oldKey.kid);
    const keys = await w.jwks();
    expect(keys.map((k) => k.kid)).toEqual([oldKey.kid, newKid]);
    const newKey = keys[1]!;
    expect(newKey.kid).toBe(await calculateJwkThumbprint({ kty: newKey.kty, crv: newKey.crv, x: newKey.x }, 'sha256'));
    expect(newKey.validFrom).toBe(rotated.body.activatedAt);
    expect(keys.every((k) => k.revokedAt === undefined)).toBe(true);
    const activation = (await w.allEntries())[sizeBefore]!;
    expect(activation.entry).toMatchObject({
      type: 'SigningKeyActivated',
      stream: `key-${newKid}`,
      kid: newKid,
      meta: { tenant: SYSTEM, actor: { sub: 'root', role: 'admin' } },
    });

    // New entries carry the new kid; the checkpoint verifier key changed and the old one no longer verifies.
    const q = await w.openQuery('pipeline', 'signed by the second key');
    const stream = await w.t.ledger.store.readStream(`query-${q.queryId}`);
    expect(stream.map((e) => e.entry.kid)).toEqual([newKid]);
    await w.checkpointNow();
    const newCheckpoint = await w.checkpoint();
    expect(newCheckpoint.vkey).not.toBe(oldCheckpoint.vkey);
    expect(newCheckpoint.vkey.startsWith(`${w.t.config.origin}+`)).toBe(true);
    expect(verifyCheckpointNote(newCheckpoint.note, parseVerifierKey(oldCheckpoint.vkey)).ok).toBe(false);
    expect(verifyCheckpointNote(oldCheckpoint.note, parseVerifierKey(oldCheckpoint.vkey)).ok).toBe(true);
    expect(newCheckpoint.rootHash.equals(rootOf(await w.allEntries()))).toBe(true);

    // The current key cannot be revoked; an unknown one is not found; a reason is required.
    expectProblem(await w.post(`/v1/keys/${newKid}/revoke`, 'admin', { reason: 'oops' }), 409, 'KEY.CURRENT_KEY');
    expectProblem(await w.post('/v1/keys/no-such-kid/revoke', 'admin', { reason: 'x' }), 404, 'KEY.NOT_FOUND');
    expectProblem(await w.post(`/v1/keys/${oldKey.kid}/revoke`, 'admin', {}), 400, 'REQUEST.VALIDATION_FAILED');
    expectProblem(await w.post(`/v1/keys/${oldKey.kid}/revoke`, 'admin', { reason: '  ' }), 400, 'REQUEST.VALIDATION_FAILED');
    expectProblem(await w.post(`/v1/keys/${oldKey.kid}/revoke`, 'admin', { reason: 'x', extra: 1 }), 400, 'REQUEST.VALIDATION_FAILED');

    // Revoke the old key.
    const sizeBeforeRevoke = (await w.allEntries()).length;
    const revoked = await w.post(`/v1/keys/${oldKey.kid}/revoke`, 'admin', { reason: 'retired after rotation' }).expect(200);
    expect(revoked.body).toEqual({ kid: oldKey.kid, revokedAt: expect.stringMatching(ISO), position: sizeBeforeRevoke });
    const after = await w.jwks();
    expect(after).toHaveLength(2);
    expect(after.find((k) => k.kid === oldKey.kid)).toMatchObject({ validFrom: oldKey.validFrom, revokedAt: revoked.body.revokedAt });
    expect(after.find((k) => k.kid === newKid)!.revokedAt).toBeUndefined();
    expectProblem(await w.post(`/v1/keys/${oldKey.kid}/revoke`, 'admin', { reason: 'again' }), 409, 'KEY.ALREADY_REVOKED');

    // The revocation is itself an entry of the log, signed by the current key, visible to every tenant's auditor.
    for (const who of ['auditor', 'auditorG']) {
      const res = await w.get(`/v1/entries?from=${sizeBeforeRevoke}&limit=1`, who).expect(200);
      expect(res.body.entries).toHaveLength(1);
      expect(res.body.entries[0]).toMatchObject({
        position: sizeBeforeRevoke,
        entry: {
          type: 'SigningKeyRevoked',
          stream: `key-${oldKey.kid}`,
          revision: 1,
          kid: newKid,
          data: { kid: oldKey.kid, reason: 'retired after rotation' },
          meta: { tenant: SYSTEM, actor: { sub: 'root', role: 'admin' }, recordedAt: revoked.body.revokedAt },
        },
      });
    }

    // Writing goes on with the new key.
    const later = await w.openQuery('pipelineG', 'after the revocation');
    expect((await w.t.ledger.store.readStream(`query-${later.queryId}`))[0]!.entry.kid).toBe(newKid);
  });

  it("every entry's JWS verifies with jose against the JWKS key of its kid, and no key signed after its revocation", async () => {
    const jwks = await w.jwks();
    const byKid = new Map(jwks.map((k) => [k.kid, k]));
    const all = await w.allEntries();
    const revocationPosition = new Map(
      all.filter((e) => e.entry.type === 'SigningKeyRevoked').map((e) => [e.entry.data.kid as string, e.position]),
    );
    expect(revocationPosition.size).toBe(1);
    const kidsUsed = new Set<string>();
    for (const { entry, position } of all) {
      const key = byKid.get(entry.kid);
      expect(key).toBeDefined();
      await joseVerifyEntry(entry, key!);
      kidsUsed.add(entry.kid);
      const revokedAt = revocationPosition.get(entry.kid);
      if (revokedAt !== undefined) expect(position).toBeLessThan(revokedAt);
    }
    expect(kidsUsed.size).toBe(2);

    // A changed entry fails jose's verification.
    const { entry } = all.at(-1)!;
    await expect(joseVerifyEntry({ ...entry, data: { ...entry.data, task: 'tampered' } }, byKid.get(entry.kid)!)).rejects.toThrow();
    await expect(joseVerifyEntry(entry, jwks.find((k) => k.kid !== entry.kid)!)).rejects.toThrow();
  });

  /** Every entry is signed by a key whose SigningKeyActivated entry comes first (or is the entry itself). */
  async function expectEveryKeyActivatedBeforeUse(): Promise<IntegratedEntry[]> {
    const all = await w.allEntries();
    const activatedAt = new Map(all.filter((e) => e.entry.type === 'SigningKeyActivated').map((e) => [e.entry.data.kid as string, e.position]));
    const early = all.filter(({ entry, position }) => !(position >= (activatedAt.get(entry.kid) ?? Infinity)));
    expect(early.map(({ position, entry }) => ({ position, kid: entry.kid, activatedAt: activatedAt.get(entry.kid) }))).toEqual([]);
    return all;
  }

  it('a rotation while commands are being written (HTTP): no entry is signed by a key before its activation entry', async () => {
    for (const delayMs of [0, 3, 8]) {
      const before = (await w.allEntries()).length;
      const writes = Array.from({ length: 30 }, (_, i) =>
        w.post('/v1/queries', i % 2 ? 'pipeline' : 'pipelineG', { task: `concurrent ${delayMs}/${i}`, input: { i } }).then((res) => res.status),
      );
      // Rotate in the middle of the writes.
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const rotated = await w.post('/v1/keys/rotate', 'admin');
      expect(rotated.status).toBe(201);
      expect(await Promise.all(writes)).toEqual(writes.map(() => 201));
      const all = await expectEveryKeyActivatedBeforeUse();
      expect(all.length).toBe(before + 31);
      expect(all[rotated.body.position as number]!.entry).toMatchObject({ type: 'SigningKeyActivated', kid: rotated.body.kid });
      // The new key signs everything after its activation.
      expect(all.slice(rotated.body.position).every((e) => e.entry.kid === rotated.body.kid)).toBe(true);
    }
  });

  it("a rotation while the service's event store is mid-batch: appends wait, the activation comes first", async () => {
    // The command path's store (EVENT_STORE = ledger.events), driven directly so that the rotation surely lands
    // while a group-commit batch is being signed.
    const meta = (i: number) => ({
      tenant: ACME,
      actor: { sub: 'svc-acme', role: 'pipeline' as const },
      correlationId: `bulk-${i}`,
      causationId: null,
      commandId: `bulk-${i}`,
      recordedAt: new Date().toISOString(),
    });
    const append = (i: number) =>
      w.t.ledger.events.append({
        stream: `bulk-${i}`,
        expectedRevision: 'no_stream',
        events: [0, 1, 2].map((k) => ({ type: 'BulkWritten', schema: 1, data: { i, k } })),
        meta: meta(i),
      });
    const before = (await w.allEntries()).length;
    const first = Array.from({ length: 150 }, (_, i) => append(i));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const rotation = w.t.ledger.rotateKey({ sub: 'root', role: 'admin' });
    const second = Array.from({ length: 50 }, (_, i) => append(150 + i));
    const [record] = await Promise.all([rotation, Promise.all(first), Promise.all(second)]);
    const all = await expectEveryKeyActivatedBeforeUse();
    expect(all.length).toBe(before + 200 * 3 + 1);
    expect(all.slice(record.activatedAtPosition).every((e) => e.entry.kid === record.kid)).toBe(true);
  });

  it('the offline verifier accepts the whole log after rotations and a revocation', async () => {
    const { verifyOffline } = await import('../src/cli/offline-ledger.js');
    await w.checkpointNow();
    const report = await verifyOffline({ dataDir: w.t.dataDir });
    expect(report).toMatchObject({ ok: true, entries: (await w.allEntries()).length });
  });

  it("the service's key records are the ones in the log, and they are what the JWKS serves", async () => {
    const records = w.t.ledger.keys();
    const jwks = await w.jwks();
    expect(records.map((r) => r.kid)).toEqual(jwks.map((k) => k.kid));
    expect(records.map((r) => r.revokedAt)).toEqual(jwks.map((k) => k.revokedAt));
    expect(jwks).toHaveLength(6);
    expect(jwks.filter((k) => k.revokedAt !== undefined)).toHaveLength(1);
    expect(jwks.at(-1)!.kid).toBe(w.t.ledger.keyRing.currentKid());
  });
});

describe('public surface: health and OpenAPI', () => {
  let w: World;

  beforeAll(async () => {
    w = await World.create();
  });

  afterAll(async () => {
    await w?.t.close();
  });

  it('GET /health needs no token', async () => {
    const res = await w.api.get('/health').expect(200);
    // A fresh ledger holds the key activation and the shipped policy set's publication.
    expect(res.body).toMatchObject({ status: 'ok', store: 'sqlite', size: await w.t.ledger.store.size(), kid: w.t.ledger.keyRing.currentKid() });
    expect(res.body.size).toBe(2);
  });

  it('GET /docs serves the Swagger UI', async () => {
    const res = await w.api.get('/docs').redirects(2);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/u);
    expect(res.text).toMatch(/swagger-ui/iu);
  });

  it('GET /docs/openapi.json documents every public path', async () => {
    const res = await w.api.get('/docs/openapi.json').expect(200);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, { security?: unknown[] }>>; components?: { securitySchemes?: object } };
    expect(doc.openapi).toMatch(/^3\./u);
    const paths = Object.keys(doc.paths);
    const param = '\\{[^}/]+\\}';
    const expected: [method: string, pattern: string][] = [
      ['post', '^/v1/queries$'],
      ['get', `^/v1/queries/${param}$`],
      ['post', `^/v1/queries/${param}/nodes/${param}/decompose$`],
      ['post', `^/v1/queries/${param}/nodes/${param}/answer$`],
      ['post', `^/v1/queries/${param}/nodes/${param}/compose$`],
      ['post', `^/v1/queries/${param}/nodes/${param}/override$`],
      ['post', `^/v1/queries/${param}/complete$`],
      ['post', `^/v1/queries/${param}/stop$`],
      ['get', '^/v1/entries$'],
      ['get', '^/v1/checkpoint$'],
      ['get', '^/v1/checkpoint/verifier-key$'],
      ['get', '^/v1/proofs/inclusion$'],
      ['get', '^/v1/proofs/consistency$'],
      ['get', '^/\\.well-known/jwks\\.json$'],
      ['get', '^/health$'],
      ['post', '^/v1/keys/rotate$'],
      ['post', `^/v1/keys/${param}/revoke$`],
    ];
    for (const [method, pattern] of expected) {
      const path = paths.find((p) => new RegExp(pattern, 'u').test(p));
      expect({ pattern, path }).toEqual({ pattern, path: expect.any(String) });
      expect(Object.keys(doc.paths[path!]!)).toContain(method);
    }
    // The bearer scheme is declared, and the audit reads use it.
    expect(doc.components?.securitySchemes).toBeDefined();
    expect(doc.paths['/v1/entries']!.get!.security).toEqual(expect.arrayContaining([expect.objectContaining({ bearer: [] })]));
    // The entries' query parameters are documented.
    const params = (doc.paths['/v1/entries']!.get as unknown as { parameters: { name: string }[] }).parameters.map((p) => p.name);
    expect(params).toEqual(expect.arrayContaining(['from', 'limit']));
  });
});
