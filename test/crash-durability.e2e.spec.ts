/**
 * An acknowledged append survives `kill -9` (DESIGN §5/§7: "append MUST NOT resolve before the entries are
 * durable"). The REAL service (`node dist/src/cli/ida-ledger.js serve`) takes concurrent commands with
 * Idempotency-Keys and is SIGKILLed while requests are still in flight. Restarted on the same data folder it
 * must hold every acknowledged command (same ids when retried with its key), retried unacknowledged commands
 * must apply exactly once, the log must verify offline, and the service must go on appending at the next
 * positions of the same Merkle tree.
 *
 * Needs `npm run build` (the npm test script builds dist/ before Jest).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintDevelopmentToken } from '../src/auth/token-issuer.js';
import { parseVerifierKey, verifyCheckpointNote } from '../src/ledger/checkpoint.js';
import { dataPaths } from '../src/ledger/embedded-ledger.js';
import type { SignedEntry } from '../src/ledger/entry.js';
import { entryLeafHash } from '../src/ledger/hashing.js';
import { verifyConsistency, verifyInclusion } from '../src/ledger/merkle.js';
import { loadOrCreateKeyFile } from '../src/ledger/signing-key.js';
import { assertBuilt, http, runCli, startServer, type HttpResponse, type ServerProcess } from './support/server-process.js';

const TENANT = 'crash-co';
const WORKERS = 40;
/** Kill once at least this many opens and decompositions were acknowledged. */
const KILL_AFTER_OPENS = 40;
const KILL_AFTER_DECOMPOSES = 15;
/** No run goes on longer than this before the kill, whatever was acknowledged. */
const LOAD_LIMIT_MS = 8000;
const SERVER_ENV = { CHECKPOINT_EVERY_ENTRIES: '16', CHECKPOINT_EVERY_MS: '200' };

interface Open {
  key: string;
  request: { task: string; input: { i: number } };
  response?: { queryId: string; rootNodeId: string; revision: number };
}
interface Decompose {
  key: string;
  queryId: string;
  nodeId: string;
  request: { subquestions: string[] };
  response?: { queryId: string; nodeId: string; childNodeIds: string[]; revision: number };
}
interface Checkpoint {
  size: number;
  rootHash: Buffer;
  note: string;
}

let dataDir: string;
let server: ServerProcess | undefined;
const servers: ServerProcess[] = [];
const tokens = { pipeline: '', auditor: '' };

const opens = new Map<string, Open>();
const decomposes = new Map<string, Decompose>();
/** Commands sent whose response never came (the connection died with the process). */
const unanswered: (Open | Decompose)[] = [];
let preCrashCheckpoint: Checkpoint | undefined;

async function start(): Promise<ServerProcess> {
  const started = await startServer({ dataDir, env: SERVER_ENV });
  servers.push(started);
  server = started;
  return started;
}

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

function call(method: string, path: string, token: string, options: { body?: unknown; key?: string } = {}): Promise<HttpResponse> {
  const headers: Record<string, string> = auth(token);
  if (options.key) headers['Idempotency-Key'] = options.key;
  return http(server!.port, method, path, { headers, body: options.body });
}

const openPath = '/v1/queries';
const decomposePath = (d: Pick<Decompose, 'queryId' | 'nodeId'>) => `/v1/queries/${d.queryId}/nodes/${d.nodeId}/decompose`;

async function health(): Promise<{ size: number; checkpointSize: number; kid: string }> {
  const res = await http(server!.port, 'GET', '/health');
  expect(res.status).toBe(200);
  return res.body;
}

async function checkpoint(): Promise<Checkpoint> {
  const [note, vkey] = await Promise.all([
    call('GET', '/v1/checkpoint', tokens.auditor),
    call('GET', '/v1/checkpoint/verifier-key', tokens.auditor),
  ]);
  expect([note.status, vkey.status]).toEqual([200, 200]);
  const check = verifyCheckpointNote(note.text, parseVerifierKey(vkey.text));
  if (!check.ok) throw new Error(`checkpoint does not verify: ${check.reason}`);
  return { size: check.body.size, rootHash: check.body.rootHash, note: note.text };
}

/** The auditor's view of the log from `from` on (all pages). */
async function entriesFrom(from: number): Promise<{ position: number; leafHash: string; entry: SignedEntry }[]> {
  const out: { position: number; leafHash: string; entry: SignedEntry }[] = [];
  let next: number | null = from;
  while (next !== null) {
    const res = await call('GET', `/v1/entries?from=${next}&limit=1000`, tokens.auditor);
    expect(res.status).toBe(200);
    out.push(...res.body.entries);
    next = res.body.nextFrom;
  }
  return out;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  assertBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'ida-ledger-crash-'));
  await start();
  // The pipeline's token from the CLI, as an operator would mint it; the auditor's in-process from the same key file.
  const minted = await runCli(['token', '--role', 'pipeline', '--tenant', TENANT, '--sub', 'svc-crash', '--data-dir', dataDir]);
  expect(minted).toMatchObject({ code: 0 });
  tokens.pipeline = minted.stdout.trim();
  const key = loadOrCreateKeyFile(dataPaths(dataDir).tokenKey).key;
  tokens.auditor = await mintDevelopmentToken({ privateKey: key.privateKey, kid: key.kid, sub: 'audrey', role: 'auditor', tenant: TENANT });
}, 30_000);

afterAll(async () => {
  // Never leave a child behind, whatever failed.
  await Promise.all(servers.map((s) => s.stop('SIGKILL').catch(() => undefined)));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 15_000);

describe('crash durability: kill -9 under concurrent load', () => {
  it('SIGKILL while commands are in flight; the crashed data folder verifies offline', async () => {
    const victim = server!;
    let next = 0;
    let inFlight = 0;
    let killed = false;
    let ackedOpens = 0;
    let ackedDecomposes = 0;
    const refusals: string[] = [];
    let kill!: () => void;
    const killTime = new Promise<void>((resolve) => (kill = resolve));

    /** Sends one command; records the acknowledgement (2xx) or that no answer came. */
    async function send<C extends Open | Decompose>(command: C, path: string, expected: number): Promise<boolean> {
      inFlight++;
      try {
        const res = await call('POST', path, tokens.pipeline, { body: command.request, key: command.key });
        if (res.status === expected) {
          command.response = res.body;
          return true;
        }
        refusals.push(`${command.key}: ${res.status} ${res.text}`);
        return false;
      } catch {
        unanswered.push(command);
        return false;
      } finally {
        inFlight--;
      }
    }

    async function worker(): Promise<void> {
      while (!killed) {
        const i = next++;
        const open: Open = { key: `open-${i}`, request: { task: `crash question ${i}`, input: { i } } };
        opens.set(open.key, open);
        if (!(await send(open, openPath, 201))) return;
        ackedOpens++;
        // Decompose two of every three queries right away (their own stream, so no conflicts).
        if (i % 3 !== 2 && !killed) {
          const decompose: Decompose = {
            key: `decompose-${i}`,
            queryId: open.response!.queryId,
            nodeId: open.response!.rootNodeId,
            request: { subquestions: [`part A of ${i}?`, `part B of ${i}?`] },
          };
          decomposes.set(decompose.key, decompose);
          if (!(await send(decompose, decomposePath(decompose), 200))) return;
          ackedDecomposes++;
        }
        if (ackedOpens >= KILL_AFTER_OPENS && ackedDecomposes >= KILL_AFTER_DECOMPOSES) kill();
      }
    }

    const workers = Array.from({ length: WORKERS }, () => worker());
    const limit = setTimeout(kill, LOAD_LIMIT_MS);
    // A checkpoint published before the crash: the restarted log must extend it.
    const checkpointTaken = (async () => {
      await until('a first checkpoint', async () => ((await health()).checkpointSize >= 16 ? true : undefined), LOAD_LIMIT_MS);
      preCrashCheckpoint = await checkpoint();
    })();
    await killTime;
    clearTimeout(limit);
    await checkpointTaken.catch(() => undefined);

    // kill -9 with requests still in flight.
    const inFlightAtKill = inFlight;
    victim.child.kill('SIGKILL');
    killed = true;
    const exit = await victim.exited;
    await Promise.all(workers);

    expect(exit.signal).toBe('SIGKILL');
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(refusals).toEqual([]);
    expect(ackedOpens).toBeGreaterThanOrEqual(KILL_AFTER_OPENS);
    expect(ackedDecomposes).toBeGreaterThanOrEqual(KILL_AFTER_DECOMPOSES);
    expect(unanswered.length).toBeGreaterThan(0);
    expect(preCrashCheckpoint).toBeDefined();

    // The data folder as the crash left it (WAL not checkpointed): the offline verifier accepts it.
    const verified = await runCli(['verify', '--data-dir', dataDir]);
    expect(verified).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK: \d+ entries verified/u) });
  }, 30_000);

  it('restarted on the same data folder: every acknowledged command is there, and a retry with its key returns the same ids', async () => {
    await start();
    const acknowledgedOpens = [...opens.values()].filter((o) => o.response);
    const acknowledgedDecomposes = [...decomposes.values()].filter((d) => d.response);
    const sizeAfterRestart = (await health()).size;
    // 1 key activation + 1 entry per open + 1 per decomposition, at least.
    expect(sizeAfterRestart).toBeGreaterThanOrEqual(1 + acknowledgedOpens.length + acknowledgedDecomposes.length);

    // Each acknowledged query, read back as the auditor: the ids the client was given, decomposed if acknowledged.
    await Promise.all(
      acknowledgedOpens.map(async (open) => {
        const { queryId, rootNodeId } = open.response!;
        const tree = await call('GET', `/v1/queries/${queryId}`, tokens.auditor);
        expect({ key: open.key, status: tree.status }).toEqual({ key: open.key, status: 200 });
        expect(tree.body).toMatchObject({ queryId, tenant: TENANT, task: open.request.task, input: open.request.input });
        expect(tree.body.root.nodeId).toBe(rootNodeId);
        const decompose = decomposes.get(open.key.replace('open-', 'decompose-'));
        if (decompose?.response) {
          expect(tree.body.root.status).toBe('decomposed');
          expect(tree.body.root.children.map((c: { nodeId: string }) => c.nodeId)).toEqual(decompose.response.childNodeIds);
          expect(tree.body.revision).toBeGreaterThanOrEqual(decompose.response.revision);
        }
      }),
    );

    // Retried with the same Idempotency-Key: the first answer, and nothing appended.
    const replays = await Promise.all([
      ...acknowledgedOpens.map(async (o) => [o.key, o.response, (await call('POST', openPath, tokens.pipeline, { body: o.request, key: o.key })).body]),
      ...acknowledgedDecomposes.map(async (d) => [
        d.key,
        d.response,
        (await call('POST', decomposePath(d), tokens.pipeline, { body: d.request, key: d.key })).body,
      ]),
    ]);
    for (const [key, first, replayed] of replays) expect({ key, body: replayed }).toEqual({ key, body: first });
    expect((await health()).size).toBe(sizeAfterRestart);

    // The verifier accepts the log while the service runs.
    const verified = await runCli(['verify', '--data-dir', dataDir]);
    expect(verified).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK: /u) });
  }, 30_000);

  it('unanswered commands, retried with their keys, apply exactly once (all of a command or none of it was kept)', async () => {
    const before = (await health()).size;
    const retriedOpens = unanswered.filter((c): c is Open => c.key.startsWith('open-'));
    let added = 0;
    for (const open of retriedOpens) {
      const res = await call('POST', openPath, tokens.pipeline, { body: open.request, key: open.key });
      expect({ key: open.key, status: res.status }).toEqual({ key: open.key, status: 201 });
      open.response = res.body;
      const again = await call('POST', openPath, tokens.pipeline, { body: open.request, key: open.key });
      expect(again.body).toEqual(res.body);
    }
    for (const decompose of unanswered.filter((c): c is Decompose => c.key.startsWith('decompose-'))) {
      const res = await call('POST', decomposePath(decompose), tokens.pipeline, { body: decompose.request, key: decompose.key });
      expect({ key: decompose.key, status: res.status }).toEqual({ key: decompose.key, status: 200 });
      decompose.response = res.body;
    }
    const after = (await health()).size;
    added = after - before;
    expect(added).toBeLessThanOrEqual(unanswered.length);

    // One command id, one appended command: no open or decomposition was recorded twice.
    const all = await entriesFrom(0);
    const commandIds = all.filter((e) => e.entry.meta.tenant === TENANT).map((e) => `${e.entry.type}/${e.entry.meta.commandId}`);
    expect(new Set(commandIds).size).toBe(commandIds.length);
    const openedKeys = all.filter((e) => e.entry.type === 'AmplificationQueryOpened').map((e) => e.entry.meta.commandId);
    expect(new Set(openedKeys)).toEqual(new Set([...opens.values()].filter((o) => o.response).map((o) => o.key)));
    // Every query stream is whole: revisions 0..n with no gap.
    const revisions = new Map<string, number[]>();
    for (const { entry } of all) if (entry.meta.tenant === TENANT) revisions.set(entry.stream, [...(revisions.get(entry.stream) ?? []), entry.revision]);
    for (const [stream, list] of revisions) expect({ stream, list }).toEqual({ stream, list: list.map((_, i) => i) });
  }, 30_000);

  it('the restarted service appends at the next positions of the same Merkle tree, and the log still verifies after a clean stop', async () => {
    const before = (await health()).size;
    const opened = await call('POST', openPath, tokens.pipeline, { body: { task: 'after the crash', input: null }, key: 'after-crash-open' });
    expect(opened.status).toBe(201);
    const split = await call('POST', decomposePath({ queryId: opened.body.queryId, nodeId: opened.body.rootNodeId }), tokens.pipeline, {
      body: { subquestions: ['still there?'] },
      key: 'after-crash-decompose',
    });
    expect(split.status).toBe(200);

    // Gapless: exactly the next two global positions.
    const fresh = await entriesFrom(before);
    expect(fresh.map((e) => [e.position, e.entry.type, e.entry.revision])).toEqual([
      [before, 'AmplificationQueryOpened', 0],
      [before + 1, 'SubqueriesDelegated', 1],
    ]);
    expect(fresh[1]!.entry.prev).toBe(fresh[0]!.leafHash);
    for (const e of fresh) expect(entryLeafHash(e.entry).toString('hex')).toBe(e.leafHash);

    // A checkpoint of the grown log (every 200 ms): the new entries are in it, and it extends the pre-crash one.
    await until('a checkpoint of the grown log', async () => ((await health()).checkpointSize >= before + 2 ? true : undefined));
    const latest = await checkpoint();
    expect(latest.size).toBe(before + 2);
    for (const e of fresh) {
      const proof = await call('GET', `/v1/proofs/inclusion?index=${e.position}&size=${latest.size}`, tokens.auditor);
      expect(proof.status).toBe(200);
      const path = (proof.body.proof as string[]).map((p) => Buffer.from(p, 'base64'));
      expect(verifyInclusion(Buffer.from(e.leafHash, 'hex'), e.position, latest.size, path, latest.rootHash)).toBe(true);
    }
    const old = preCrashCheckpoint!;
    const consistency = await call('GET', `/v1/proofs/consistency?from=${old.size}&to=${latest.size}`, tokens.auditor);
    expect(consistency.status).toBe(200);
    const proof = (consistency.body.proof as string[]).map((p) => Buffer.from(p, 'base64'));
    expect(verifyConsistency(old.size, latest.size, old.rootHash, latest.rootHash, proof)).toBe(true);

    // A clean stop, then the offline verifier, holding the pre-crash and the latest checkpoints as an auditor would.
    const exit = await server!.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    const held = [old.note, latest.note].map((note, i) => {
      const file = join(dataDir, `held-${i}.note`);
      writeFileSync(file, note);
      return file;
    });
    const verified = await runCli(['verify', '--data-dir', dataDir, '--checkpoint', held[0]!, '--checkpoint', held[1]!, '--json']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, entries: before + 2 });
  }, 30_000);
});
