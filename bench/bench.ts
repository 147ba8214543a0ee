/**
 * `npm run bench` — throughput of the ledger measured against the physical limits of the same machine, in
 * the same run (DESIGN §9): ratios, not absolute times, are what to compare across machines.
 * `npm run bench -- --json` prints the figures as one JSON object.
 *
 * The projection rebuild reads a realistic ledger of `BENCH_REBUILD_ENTRIES` entries (default 1,000,000),
 * generated on the first run (about 100 s and 1.4 GB per million entries) and cached in
 * `<os.tmpdir()>/ida-ledger-bench-cache`, keyed by size and generator version.
 */
import { measureGateOverhead } from '../src/inference/bench/gate-bench.js';
import { availableParallelism } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes, sign as cryptoSign, verify as cryptoVerify, createHash } from 'node:crypto';
import { canonicalJson } from '../src/ledger/canonical-json.js';
import type { EntryMeta, ProposedEvent, UnsignedEntry } from '../src/ledger/entry.js';
import { protectedHeaderFor, signingInput } from '../src/ledger/entry-signature.js';
import { EmbeddedLedger } from '../src/ledger/embedded-ledger.js';
import { MerkleTree, verifyInclusion } from '../src/ledger/merkle.js';
import { generateSigningKey } from '../src/ledger/signing-key.js';
import { verifyOffline } from '../src/cli/offline-ledger.js';
import { v7 as uuidv7 } from 'uuid';
import Database from 'better-sqlite3';
import { cachedRealisticLedger, measureLineageQuery, measureRebuildAgainstRaw } from '../src/projections/projection-bench.js';
import { median } from '../src/common/stats.js';

const json = process.argv.includes('--json');

/** Entries of the realistic ledger the projections are rebuilt from: `BENCH_REBUILD_ENTRIES`, else 1,000,000. */
function rebuildEntries(): number {
  const value = process.env.BENCH_REBUILD_ENTRIES;
  if (value === undefined || value === '') return 1_000_000;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`BENCH_REBUILD_ENTRIES must be a positive integer, not ${value}`);
  return n;
}
const log = (message: string) => {
  if (!json) process.stderr.write(`${message}\n`);
};

/** A realistic ~500-byte event: a human answer with its rationale. */
function sampleEvent(i: number): ProposedEvent {
  return {
    type: 'HumanOverrideRecorded',
    schema: 1,
    data: {
      nodeId: `01a21d0d-0627-7747-a500-${String(i).padStart(12, '0')}`,
      answer: 'The composed answer is 42 because each subquestion resolved to 14 and there are three of them.',
      rationale: 'Overseer re-checked the arithmetic of subquestions 2 and 3; the proxy had swapped two operands.',
      previousAnswer: 'The composed answer is 41.',
      confidence: 0.93,
    },
  };
}

/**
 * `commandId`: unique per append — a random prefix per writer run (`run`) and the append's number. Not random
 * bytes per append: at thousands of appends per second the harness's own `randomBytes` took a tenth of the
 * main thread the store's appends are measured on.
 */
function sampleMeta(i: number, run = randomBytes(6).toString('hex'), tenant = 'acme'): EntryMeta {
  return {
    tenant,
    actor: { sub: 'overseer-7', role: 'overseer' },
    correlationId: `corr-${i}`,
    causationId: null,
    commandId: `bench-${run}-${i}`,
    recordedAt: new Date().toISOString(),
  };
}

/** Operations per second of `op`, run for about `ms` milliseconds (after a short warm-up). */
function rate(op: () => void, ms = 1500): number {
  for (let i = 0; i < 200; i++) op();
  let count = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 100; i++) op();
    count += 100;
    elapsed = process.hrtime.bigint() - start;
  }
  return count / (Number(elapsed) / 1e9);
}

/**
 * Appends per second by `writers` concurrent writers, each waiting for its own durable append. With
 * `freshStreams`, every append opens a new stream (a new query: stream ids are time-ordered UUID v7, as in
 * production); otherwise each writer appends to one long-lived stream of its own (the harder case for the
 * store's (stream, revision) index: one page dirtied per active stream and commit).
 */
async function appendRate(ledger: EmbeddedLedger, writers: number, ms: number, freshStreams = false): Promise<number> {
  let count = 0;
  let stop = false;
  const deadline = Date.now() + ms;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const run = randomBytes(6).toString('hex');
      let i = 0;
      while (!stop) {
        await ledger.store.append({
          stream: freshStreams ? `query-${uuidv7()}` : `query-bench-${writers}-${w}`,
          expectedRevision: freshStreams ? 'no_stream' : 'any',
          events: [sampleEvent(i)],
          meta: sampleMeta(i, run),
        });
        count++;
        i++;
        if (Date.now() >= deadline) stop = true;
      }
    }),
  );
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

/**
 * The storage limit: rows per second into a bare SQLite table (WAL, synchronous=FULL), 32 rows of the entry's
 * size per transaction — what 32 writers' group commits cost with no index, no signature and no JSON.
 */
function rawSqliteRate(dir: string, rowBytes: number, ms: number): number {
  const db = new Database(join(dir, 'raw-sqlite.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE rows (position INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO rows (position, body) VALUES (?, ?)');
    const body = 'x'.repeat(rowBytes);
    const transaction = db.transaction((from: number) => {
      for (let i = 0; i < 32; i++) insert.run(from + i, body);
    });
    let rows = 0;
    const start = performance.now();
    while (performance.now() - start < ms) {
      transaction(rows);
      rows += 32;
    }
    return rows / ((performance.now() - start) / 1000);
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  const dir = mkdtempSync(join(tmpdir(), 'ida-ledger-bench-'));
  try {
    // 1. The physical limits: raw Ed25519 sign and verify on the exact bytes an entry signs.
    const key = generateSigningKey();
    const entry: UnsignedEntry = {
      stream: 'query-0190f5b2-0000-7000-8000-000000000001',
      revision: 7,
      id: '0190f5b2-0000-7000-8000-00000000abcd',
      ...sampleEvent(1),
      meta: sampleMeta(1),
      prev: createHash('sha256').update('prev').digest('hex'),
      kid: key.kid,
    };
    const payload = signingInput(protectedHeaderFor(key.kid), canonicalJson(entry));
    const signature = cryptoSign(null, payload, key.privateKey);
    log(`entry signing input: ${payload.length} bytes`);
    // Each limit is measured right before and right after the figure it is compared with, and averaged: these
    // machines change speed over a run, and a ratio must compare like with like.
    const rawSignRate = () => rate(() => cryptoSign(null, payload, key.privateKey), 1000);
    const rawVerifyRate = () => rate(() => cryptoVerify(null, payload, key.publicKey, signature), 1000);
    const rawSignBefore = rawSignRate();
    const rawSqliteBefore = rawSqliteRate(dir, payload.length, 1500);

    // 2. Signed, durable appends through the store (synchronous=FULL, group commit).
    const dataDir = join(dir, 'data');
    const ledger = await EmbeddedLedger.open({ dataDir, origin: 'bench.local/log', checkpointEveryEntries: 1000, checkpointEveryMs: 1000 });
    const single = await appendRate(ledger, 1, 3000);
    log(`signed durable appends, 1 writer: ${single.toFixed(0)}/s`);
    const concurrent = await appendRate(ledger, 32, 5000);
    log(`signed durable appends, 32 concurrent writers: ${concurrent.toFixed(0)}/s`);
    const concurrentFresh = await appendRate(ledger, 32, 4000, true);
    log(`signed durable appends, 32 concurrent writers, a new stream each: ${concurrentFresh.toFixed(0)}/s`);
    const size = await ledger.store.size();
    await ledger.close();
    const rawSign = (rawSignBefore + rawSignRate()) / 2;
    log(`raw node:crypto Ed25519 sign: ${rawSign.toFixed(0)}/s (one core)`);
    const rawSqlite = (rawSqliteBefore + rawSqliteRate(mkdtempSync(join(dir, 'again-')), payload.length, 1500)) / 2;
    log(`raw SQLite insert, 32 rows per durable commit, bare table: ${rawSqlite.toFixed(0)}/s`);

    // 3. Offline verification of the whole data folder just written.
    const rawVerifyBefore = rawVerifyRate();
    const verifyStart = process.hrtime.bigint();
    const report = await verifyOffline({ dataDir });
    const verifySeconds = Number(process.hrtime.bigint() - verifyStart) / 1e9;
    if (!report.ok) throw new Error(`bench ledger failed verification: ${JSON.stringify(report.failure)}`);
    const verifyRate = report.entries / verifySeconds;
    const rawVerify = (rawVerifyBefore + rawVerifyRate()) / 2;
    log(`raw node:crypto Ed25519 verify: ${rawVerify.toFixed(0)}/s (one core)`);
    log(`offline verification: ${report.entries} entries in ${verifySeconds.toFixed(2)} s = ${verifyRate.toFixed(0)}/s on ${cores} cores`);

    // 4. Inclusion proofs in a tree of 1,000,000 entries.
    const tree = new MerkleTree();
    const leafSeed = randomBytes(32);
    for (let i = 0; i < 1_000_000; i++) tree.append(createHash('sha256').update(leafSeed).update(String(i)).digest());
    const root = tree.root();
    const proofTimes: number[] = [];
    const verifyTimes: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const index = Math.floor(Math.random() * tree.size);
      const t0 = process.hrtime.bigint();
      const proof = tree.inclusionProof(index, tree.size);
      const t1 = process.hrtime.bigint();
      if (!verifyInclusion(tree.leaf(index), index, tree.size, proof, root)) throw new Error('inclusion proof failed');
      const t2 = process.hrtime.bigint();
      proofTimes.push(Number(t1 - t0) / 1000);
      verifyTimes.push(Number(t2 - t1) / 1000);
    }
    log(`inclusion proof at 1,000,000 entries: ${median(proofTimes).toFixed(1)} µs median (verify ${median(verifyTimes).toFixed(1)} µs)`);

    // 5. Projections: a rebuild of all of them from a realistic ledger, against merely reading and parsing the
    // same entries (three rebuilds, each between two raw runs; median ratio); lineage queries on a long chain.
    const rebuildSize = rebuildEntries();
    const cacheDir = join(tmpdir(), 'ida-ledger-bench-cache');
    let generating = 0;
    const ledgerForRebuild = await cachedRealisticLedger(rebuildSize, cacheDir, (written, total) => {
      if (written - generating >= total / 10 || written === total) {
        generating = written;
        log(`generating the realistic ledger (once, cached in ${cacheDir}): ${written} of ${total} entries`);
      }
    });
    log(`realistic ledger: ${ledgerForRebuild.size} entries (${ledgerForRebuild.cached ? 'cached' : `generated in ${ledgerForRebuild.seconds.toFixed(0)} s`})`);
    const rebuildRounds = await measureRebuildAgainstRaw(ledgerForRebuild.dataDir, 3);
    const rebuild = rebuildRounds.rebuild;
    const rawReadParse = rebuildRounds.rawReadParsePerSecond;
    log(`raw read + JSON.parse: ${rawReadParse.toFixed(0)} entries/s (median of 4 runs around 3 rebuilds)`);
    log(
      `projection rebuild (read, parse, fold all ${rebuild.projections.length}): ${rebuild.entries} entries, ${rebuildRounds.rebuildPerSecond.toFixed(0)}/s median of 3 ` +
        `(ratios ${rebuildRounds.ratios.map((ratio) => ratio.toFixed(2)).join(', ')}); digests ${rebuild.digestSeconds.toFixed(2)} s`,
    );
    const lineage = measureLineageQuery(1000);
    log(`lineage query, 1,000 versions (${lineage.nodes} nodes): ${lineage.medianMs.toFixed(2)} ms median, ${lineage.maxMs.toFixed(2)} ms max`);

    // 6. The inference gate (issue 4): prepared Cedar decisions, and the whole gate per job (decide + record + grant +
    // worker verify + result accept) beyond its signed appends, against the bare onnxruntime run() of the same model.
    const gate = await measureGateOverhead({ jobs: Number(process.env['BENCH_GATE_JOBS'] ?? 200), concurrency: 16 });
    log(`policy decision (prepared Cedar): p50 ${gate.policy_decision_p50_us.toFixed(0)} µs, p99 ${gate.policy_decision_p99_us.toFixed(0)} µs`);
    log(`gate overhead beyond the appends: c1 p50 ${gate.gate_overhead_p50_ms_c1.toFixed(2)} ms, p99 ${gate.gate_overhead_p99_ms_c1.toFixed(2)} ms; c16 amortized ${gate.gate_overhead_amortized_ms_c16.toFixed(2)} ms`);

    const figures = {
      cores_used: cores,
      entries_in_store: size,
      raw_sign_per_s: Math.round(rawSign),
      raw_verify_per_s: Math.round(rawVerify),
      append_1_writer_per_s: Math.round(single),
      append_32_writers_per_s: Math.round(concurrent),
      append_32_writers_vs_raw_sign: +(concurrent / rawSign).toFixed(3),
      raw_sqlite_32_rows_per_commit_per_s: Math.round(rawSqlite),
      append_32_writers_vs_raw_sqlite: +(concurrent / rawSqlite).toFixed(3),
      append_32_writers_new_streams_per_s: Math.round(concurrentFresh),
      append_32_writers_new_streams_vs_raw_sign: +(concurrentFresh / rawSign).toFixed(3),
      verify_entries_per_s: Math.round(verifyRate),
      verify_vs_raw_verify_x_cores: +(verifyRate / (rawVerify * cores)).toFixed(3),
      inclusion_proof_us_at_1m: +median(proofTimes).toFixed(2),
      inclusion_verify_us_at_1m: +median(verifyTimes).toFixed(2),
      rebuild_entries: rebuild.entries,
      raw_read_parse_per_s: Math.round(rawReadParse),
      rebuild_per_s: Math.round(rebuildRounds.rebuildPerSecond),
      rebuild_vs_raw_read_parse: +rebuildRounds.ratio.toFixed(3),
      rebuild_digest_seconds: +rebuild.digestSeconds.toFixed(2),
      lineage_query_ms_1000_versions: +lineage.medianMs.toFixed(2),
      lineage_query_max_ms_1000_versions: +lineage.maxMs.toFixed(2),
      policy_decision_p50_us: +gate.policy_decision_p50_us.toFixed(1),
      policy_decision_p99_us: +gate.policy_decision_p99_us.toFixed(1),
      onnx_run_p50_ms: +gate.onnx_run_p50_ms.toFixed(4),
      gate_appends_per_job: gate.appends_per_job,
      gate_overhead_p50_ms_c1: +gate.gate_overhead_p50_ms_c1.toFixed(3),
      gate_overhead_p99_ms_c1: +gate.gate_overhead_p99_ms_c1.toFixed(3),
      gate_overhead_p50_ms_c16: +gate.gate_overhead_p50_ms_c16.toFixed(3),
      gate_overhead_p99_ms_c16: +gate.gate_overhead_p99_ms_c16.toFixed(3),
      gate_overhead_amortized_ms_c16: +gate.gate_overhead_amortized_ms_c16.toFixed(3),
      gate_overhead_vs_onnx_run_c1: +gate.gate_overhead_vs_onnx_run_c1.toFixed(1),
      gate_overhead_vs_onnx_run_c16: +gate.gate_overhead_vs_onnx_run_c16.toFixed(1),
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(figures)}\n`);
    } else {
      const goals: Record<string, string> = {
        append_32_writers_vs_raw_sign: 'goal ≥ 0.7',
        append_32_writers_new_streams_vs_raw_sign: 'goal ≥ 0.7',
        verify_vs_raw_verify_x_cores: 'goal ≥ 0.7',
        rebuild_vs_raw_read_parse: 'goal ≥ 0.5',
        gate_overhead_p99_ms_c1: 'goal < 1 ms',
        gate_overhead_p99_ms_c16: 'goal < 1 ms',
        lineage_query_ms_1000_versions: 'goal < 50',
      };
      console.log('\nfigure'.padEnd(45) + 'value');
      for (const [name, value] of Object.entries(figures)) console.log(`${name.padEnd(44)}${String(value).padEnd(12)}${goals[name] ?? ''}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
