/**
 * Benchmark helpers for the projections (called by bench/bench.ts; nothing here runs by itself):
 *
 * - `generateRealisticLedger(dataDir, entries)`: a signed, verifiable data folder holding exactly `entries`
 *   entries (plus the log key's activation) of a realistic IDA mix — queries decomposed and answered by
 *   proxies, ensembles and humans, escalations, overrides, stops; distillation runs; proxies registered,
 *   promoted and recalibrated — written through the store's normal (signing) append by many concurrent lanes,
 *   so group commit batches them. Optionally cached (`cacheDir`): a later call copies the folder instead.
 * - `measureRawReadParse(dataDir)`: the baseline — entries/s of merely reading `entry_json` from SQLite and
 *   JSON-parsing it, in the same batches as the rebuild.
 * - `cachedRealisticLedger(entries, cacheDir)`: the same, generated once into a cache and read there in place.
 * - `measureRebuild(dataDir)`: entries/s of `ida-ledger rebuild` (read, parse, fold all projections; the
 *   digests, computed afterwards, are timed apart).
 * - `buildLineageChain(n)` / `measureLineageQuery(n)`: a lineage of n proxy generations (v1 ← run2 ← v2 …),
 *   and the time of walking it from the newest version back to iteration 0.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '../common/stats.js';
import { dataPaths, EmbeddedLedger } from '../ledger/embedded-ledger.js';
import { SqliteEventStore } from '../ledger/sqlite/sqlite-event-store.js';
import { IdaScript, overseer, scriptMeta, toEntries, type QueryScript, type ScriptAppend } from './ida-event-script.js';
import { LineageProjection } from './lineage/lineage.projection.js';
import { rebuildDataDir, REBUILD_BATCH } from './projection-rebuild.js';
import type { ProjectionStatus } from './projection.js';

/** Bumped whenever the generated mix changes, so a cache never serves an older mix. */
const GENERATOR_VERSION = 1;
const TENANTS = ['acme', 'globex', 'initech'] as const;
const QUERIES_PER_RUN = 150;
const DATASET_SIZE = 40;
const LANES = 256;

/** Small, fast, seeded PRNG (mulberry32): the mix is reproducible; the interleaving of lanes is not. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface TenantPipeline {
  tenant: string;
  /** Proxy versions in production, newest last (the last three serve). */
  production: string[];
  completedQueries: string[];
  queriesSinceRun: number;
  runs: number;
}

const QUESTIONS = [
  'Does the discharge summary list every medication the patient takes at home?',
  'Is the dosage within the label for an adult of the stated weight and renal function?',
  'Which of the cited trials enrolled patients older than seventy-five?',
  'Summarise the adverse events reported in the second follow-up visit.',
  'Does the contract clause allow termination without cause within the first year?',
];

/**
 * Builds the appends of one whole query (or a distillation cycle), chosen at random: each call's appends are
 * in stream order; calls may be interleaved freely (the specs do, the generator's lanes do).
 */
export class RealisticMix {
  private readonly random: () => number;
  private queryCount = 0;
  private readonly pipelines: TenantPipeline[] = TENANTS.map((tenant) => ({
    tenant,
    production: [],
    completedQueries: [],
    queriesSinceRun: 0,
    runs: 0,
  }));

  constructor(
    seed = 0x1da,
    private readonly queriesPerRun = QUERIES_PER_RUN,
    private readonly datasetSize = DATASET_SIZE,
  ) {
    this.random = prng(seed);
  }

  next(): ScriptAppend[] {
    const pipeline = this.pipelines[Math.floor(this.random() * this.pipelines.length)]!;
    if (pipeline.queriesSinceRun >= this.queriesPerRun && pipeline.completedQueries.length >= this.datasetSize) return this.distil(pipeline);
    pipeline.queriesSinceRun++;
    return this.query(pipeline);
  }

  private pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)]!;
  }

  private query(pipeline: TenantPipeline): ScriptAppend[] {
    const script = new IdaScript();
    const n = ++this.queryCount;
    const queryId = `q-${pipeline.tenant}-${n}`;
    const q = script.openQuery({ tenant: pipeline.tenant, queryId, question: this.pick(QUESTIONS), threshold: 0.7 });
    const leafCount = 2 + Math.floor(this.random() * 3);
    const leaves = Array.from({ length: leafCount }, (_, i) => ({ nodeId: `${queryId}-n${i}`, question: `${this.pick(QUESTIONS)} (part ${i + 1})` }));
    q.delegate(q.rootNodeId, leaves);
    let waiting = false;
    let firstProxyAnswer: string | null = null;
    leaves.forEach((leaf, i) => {
      const r = this.random();
      const proxies = pipeline.production.slice(-3);
      const job = `${leaf.nodeId}-j`;
      if (proxies.length === 0 || r < 0.1) {
        q.assignHuman(leaf.nodeId).answer(leaf.nodeId, `human answer ${i}`, overseer(this.pick(['alice', 'bob', 'carol'])), 0.95);
      } else if (proxies.length >= 3 && r < 0.25) {
        const members = proxies.map((proxyVersionId, m) => ({ proxyVersionId, jobId: `${job}${m}` }));
        q.assignEnsemble(leaf.nodeId, members, leaf.question);
        const split = this.random() < 0.2;
        members.forEach((member, m) => {
          const answer = split ? `answer ${m}` : 'majority answer';
          const last = m === members.length - 1 ? members.map((x) => x.jobId) : undefined;
          q.memberResult(leaf.nodeId, member.proxyVersionId, member.jobId, answer, 0.8 + this.random() * 0.19, last);
        });
        if (split) waiting = this.resolve(q, leaf.nodeId) || waiting;
      } else {
        const proxy = this.pick(proxies);
        const confident = r >= 0.4;
        q.assignProxy(leaf.nodeId, proxy, job, leaf.question);
        const answer = `proxy answer ${i}: ${this.pick(QUESTIONS).slice(0, 40)}`;
        q.result(leaf.nodeId, proxy, job, answer, confident ? 0.75 + this.random() * 0.24 : 0.3 + this.random() * 0.3);
        if (confident) firstProxyAnswer ??= leaf.nodeId;
        else waiting = this.resolve(q, leaf.nodeId) || waiting;
      }
    });
    if (this.random() < 0.03) {
      q.stop('abandoned by the overseer');
    } else if (!waiting) {
      q.compose(q.rootNodeId, 'composed answer from every part');
      if (firstProxyAnswer !== null && this.random() < 0.1) q.override(firstProxyAnswer, 'corrected by hand', 'previous');
      q.complete('composed answer from every part');
      pipeline.completedQueries.push(queryId);
      if (pipeline.completedQueries.length > this.datasetSize * 4) pipeline.completedQueries.splice(0, this.datasetSize * 2);
    }
    return script.appends;
  }

  /** An escalated node: most get a human answer; some stay in the oversight queue (the query waits). */
  private resolve(q: QueryScript, nodeId: string): boolean {
    if (this.random() < 0.2) return true;
    q.assignHuman(nodeId).answer(nodeId, 'answer given by the overseer', overseer(this.pick(['alice', 'bob', 'carol'])), 0.99);
    return false;
  }

  private distil(pipeline: TenantPipeline): ScriptAppend[] {
    pipeline.queriesSinceRun = 0;
    const runId = `run-${pipeline.tenant}-${++pipeline.runs}`;
    const parent = pipeline.production[pipeline.production.length - 1] ?? null;
    const script = new IdaScript();
    script.runStarted({
      tenant: pipeline.tenant,
      runId,
      parentProxyVersionId: parent,
      queryIds: pipeline.completedQueries.slice(-this.datasetSize),
      teacherProxyVersionIds: [...pipeline.production.slice(-3)].sort(),
      humanPool: ['alice', 'bob', 'carol'],
    });
    script.runCompleted(pipeline.tenant, runId, parent === null ? null : 0.05);
    script.registerProxy({ tenant: pipeline.tenant, proxyVersionId: runId, parentProxyVersionId: parent, version: String(pipeline.runs) });
    script.promote(pipeline.tenant, runId, 'candidate', 'shadow');
    script.recalibrate(pipeline.tenant, runId, `${runId}-recal`, 0.9);
    script.promote(pipeline.tenant, runId, 'shadow', 'production');
    // Serving proxies switch over only once the whole cycle is planned: later queries use the new version.
    pipeline.production.push(runId);
    return script.appends;
  }
}

/** The entries of `units` whole units of a small mix, one after the other (the projection specs fold them). */
export function realisticEntries(seed: number, units: number, queriesPerRun = 4, datasetSize = 3): ReturnType<typeof toEntries> {
  const mix = new RealisticMix(seed, queriesPerRun, datasetSize);
  const appends: ScriptAppend[] = [];
  for (let i = 0; i < units; i++) appends.push(...mix.next());
  return toEntries(appends);
}

export interface GeneratedLedger {
  dataDir: string;
  /** Entries written by the generator (the log also holds the key activation entry). */
  entries: number;
  /** Total entries in the store. */
  size: number;
  seconds: number;
  cached: boolean;
}

/**
 * Writes a fresh data folder of exactly `entries` generated entries (plus the key activation), signed through
 * the store's normal append (one second of `recordedAt` per append, from 2025-01-01). `cacheDir`: keep a copy there and reuse it for the same `entries` (and generator
 * version) later — a million entries take a minute or more to sign and about 1 GB on disk.
 */
export async function generateRealisticLedger(
  dataDir: string,
  entries: number,
  options: { cacheDir?: string; onProgress?: (written: number, total: number) => void } = {},
): Promise<GeneratedLedger> {
  const started = process.hrtime.bigint();
  const cached = options.cacheDir === undefined ? null : join(options.cacheDir, `realistic-v${GENERATOR_VERSION}-${entries}`);
  if (cached !== null && existsSync(dataPaths(cached).database)) {
    rmSync(dataDir, { recursive: true, force: true });
    cpSync(cached, dataDir, { recursive: true });
    const reader = SqliteEventStore.openReadOnly(dataPaths(dataDir).database);
    const size = await reader.size();
    reader.close();
    return { dataDir, entries, size, seconds: elapsed(started), cached: true };
  }

  // Command ids restart at 0 on every run: appended to an existing log, they would be taken as retries.
  if (existsSync(dataPaths(dataDir).database)) throw new Error(`generateRealisticLedger: ${dataDir} already holds a ledger`);
  const ledger = await EmbeddedLedger.open({
    dataDir,
    origin: 'bench.local/projections',
    checkpointEveryEntries: 100_000,
    checkpointEveryMs: 3_600_000,
  });
  try {
    const mix = new RealisticMix();
    let planned = 0;
    let written = 0;
    let n = 0;
    const lane = async (): Promise<void> => {
      while (planned < entries) {
        const appends = mix.next();
        for (const append of appends) {
          if (planned >= entries) break;
          // The last append is cut to the exact count; a cut query is simply left open (a valid prefix).
          const events = append.events.slice(0, entries - planned);
          planned += events.length;
          await ledger.store.append({ stream: append.stream, expectedRevision: 'any', events, meta: scriptMeta(append, n++) });
          written += events.length;
          options.onProgress?.(written, entries);
        }
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    const size = await ledger.store.size();
    await ledger.close();
    if (cached !== null) {
      mkdirSync(options.cacheDir!, { recursive: true });
      rmSync(cached, { recursive: true, force: true });
      cpSync(dataDir, cached, { recursive: true });
    }
    return { dataDir, entries: written, size, seconds: elapsed(started), cached: false };
  } catch (error) {
    await ledger.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The data folder of a cached realistic ledger of `entries` entries under `cacheDir` (generated there first,
 * once: about 100 s and 1.4 GB for a million entries). The benchmark reads it in place, read-only, instead of
 * copying it; `cached` says whether it was there already.
 */
export async function cachedRealisticLedger(
  entries: number,
  cacheDir: string,
  onProgress?: (written: number, total: number) => void,
): Promise<GeneratedLedger> {
  const started = process.hrtime.bigint();
  const cached = join(cacheDir, `realistic-v${GENERATOR_VERSION}-${entries}`);
  if (existsSync(dataPaths(cached).database)) {
    const reader = SqliteEventStore.openReadOnly(dataPaths(cached).database);
    const size = await reader.size();
    reader.close();
    return { dataDir: cached, entries, size, seconds: elapsed(started), cached: true };
  }
  // Written next to its final place, then renamed: an interrupted run never leaves a partial ledger there.
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${cached}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  try {
    const generated = await generateRealisticLedger(partial, entries, { onProgress });
    rmSync(cached, { recursive: true, force: true });
    renameSync(partial, cached);
    return { ...generated, dataDir: cached, seconds: elapsed(started) };
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}

export interface RateMeasurement {
  entries: number;
  seconds: number;
  entriesPerSecond: number;
}

/** The baseline: read every `entry_json` of the store file and JSON-parse it (read-only, batches of REBUILD_BATCH). */
export async function measureRawReadParse(dataDir: string): Promise<RateMeasurement> {
  const reader = SqliteEventStore.openReadOnly(dataPaths(dataDir).database);
  try {
    const total = await reader.size();
    const started = process.hrtime.bigint();
    let next = 0;
    let sink = 0;
    while (next < total) {
      const rows = reader.readEntryJson(next, Math.min(REBUILD_BATCH, total - next));
      if (rows.length === 0) break;
      for (let i = 0; i < rows.length; i++) sink += (JSON.parse(rows[i]![1]) as { revision: number }).revision & 1;
      next = rows[rows.length - 1]![0] + 1;
    }
    const seconds = elapsed(started);
    if (sink < 0) throw new Error('unreachable'); // keeps the parse from being optimised away
    return { entries: next, seconds, entriesPerSecond: next / seconds };
  } finally {
    reader.close();
  }
}

/**
 * `ida-ledger rebuild` without the printing: read, parse and fold every projection until each can answer its
 * reads — `seconds` and `entriesPerSecond` time that — then compute every digest, timed apart (`digestSeconds`:
 * the digests compare a rebuild with the live projections, they are no part of rebuilding). `digests: false`
 * skips them (a repeated measurement).
 */
export async function measureRebuild(
  dataDir: string,
  { digests = true }: { digests?: boolean } = {},
): Promise<RateMeasurement & { digestSeconds: number; projections: ProjectionStatus[] }> {
  const result = await rebuildDataDir(dataDir, undefined, { digests });
  return {
    entries: result.entries,
    seconds: result.foldSeconds,
    entriesPerSecond: result.entries / result.foldSeconds,
    digestSeconds: result.digestSeconds,
    projections: result.projections,
  };
}

export interface RebuildAgainstRaw {
  /** The rebuild with digests (the last round). */
  rebuild: RateMeasurement & { digestSeconds: number; projections: ProjectionStatus[] };
  /** Medians over the rounds, entries/s. */
  rebuildPerSecond: number;
  rawReadParsePerSecond: number;
  /** Median over the rounds of (rebuild rate / mean of the raw rates measured right before and after it). */
  ratio: number;
  /** Every round's ratio, in order. */
  ratios: number[];
}

/**
 * The rebuild against the raw read + parse of the same ledger, in `rounds` rounds: raw, rebuild, raw, rebuild,
 * ..., raw — each rebuild compared with the raw runs right before and after it, and the median ratio kept. On a
 * shared, noisy machine a single pair can be off by a fifth either way; a burst of noise then moves one round,
 * not the figure.
 */
export async function measureRebuildAgainstRaw(dataDir: string, rounds = 3): Promise<RebuildAgainstRaw> {
  const raws = [await measureRawReadParse(dataDir)];
  const rebuilds: (RateMeasurement & { digestSeconds: number; projections: ProjectionStatus[] })[] = [];
  for (let round = 0; round < rounds; round++) {
    rebuilds.push(await measureRebuild(dataDir, { digests: round === rounds - 1 }));
    raws.push(await measureRawReadParse(dataDir));
  }
  const ratios = rebuilds.map(
    (rebuild, i) => rebuild.entriesPerSecond / ((raws[i]!.entriesPerSecond + raws[i + 1]!.entriesPerSecond) / 2),
  );
  return {
    rebuild: rebuilds[rebuilds.length - 1]!,
    rebuildPerSecond: median(rebuilds.map((rebuild) => rebuild.entriesPerSecond)),
    rawReadParsePerSecond: median(raws.map((raw) => raw.entriesPerSecond)),
    ratio: median(ratios),
    ratios,
  };
}

export interface LineageChain {
  projection: LineageProjection;
  tenant: string;
  /** The newest proxy version (generation n). */
  head: string;
  /** The first proxy version, distilled from human answers only. */
  first: string;
  entries: number;
}

/**
 * A lineage of `n` proxy versions: run1 on a human-answered query → v1; run k (parent and teacher v(k-1)) on a
 * query v(k-1) answered → vk. Folded into a fresh `LineageProjection`.
 */
export function buildLineageChain(n: number, tenant = 'acme'): LineageChain {
  const script = new IdaScript();
  let previous: string | null = null;
  for (let k = 1; k <= n; k++) {
    const queryId = `chain-q${k}`;
    const q = script.openQuery({ tenant, queryId });
    if (previous === null) q.answer(q.rootNodeId, 'human answer', overseer('alice'));
    else q.assignProxy(q.rootNodeId, previous, `${queryId}-j`).result(q.rootNodeId, previous, `${queryId}-j`, 'proxy answer', 0.9);
    q.complete('done');
    const runId = `v${k}`;
    script.runStarted({
      tenant,
      runId,
      parentProxyVersionId: previous,
      queryIds: [queryId],
      teacherProxyVersionIds: previous === null ? [] : [previous],
      humanPool: previous === null ? ['alice'] : [],
    });
    script.runCompleted(tenant, runId, previous === null ? null : 0.05).registerProxy({ tenant, proxyVersionId: runId, parentProxyVersionId: previous });
    previous = runId;
  }
  const entries = toEntries(script.appends);
  const projection = new LineageProjection();
  for (const entry of entries) projection.apply(entry);
  return { projection, tenant, head: `v${n}`, first: 'v1', entries: entries.length };
}

/** Milliseconds to walk the ancestors of the newest of `n` proxy generations back to iteration 0 (median of `repeats`). */
export function measureLineageQuery(n: number, repeats = 21): { n: number; medianMs: number; maxMs: number; nodes: number } {
  const chain = buildLineageChain(n);
  const times: number[] = [];
  let nodes = 0;
  for (let i = 0; i < repeats; i++) {
    const start = process.hrtime.bigint();
    const graph = chain.projection.lineage(chain.tenant, chain.head, 'ancestors');
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    nodes = graph?.nodes.length ?? 0;
  }
  times.sort((a, b) => a - b);
  return { n, medianMs: times[Math.floor(times.length / 2)]!, maxMs: times[times.length - 1]!, nodes };
}

function elapsed(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
