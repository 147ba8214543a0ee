/**
 * The demo's printouts: KPIs per iteration (from the decision trees the ledger returns and the distillation
 * metrics it recorded) and a proxy's lineage (`GET /v1/lineage/:id`). Pure functions → strings.
 */
import { groundTruth, parseQuestion } from './task.js';
import type { TranscriptLeaf } from './training.js';

export interface IterationKpis {
  iteration: number;
  /** Who answered the leaves: `humans` or the proxy version. */
  answeredBy: string;
  queries: number;
  leaves: number;
  humanAnswers: number;
  proxyAnswers: number;
  /** Leaves whose proxy answer was escalated to a human. */
  escalations: number;
  /** Leaves whose answer an overseer overrode. */
  overrides: number;
  /** overrides / leaves answered by a proxy (null: no proxy answered). */
  overrideRate: number | null;
  /** escalations / leaves assigned to a proxy (null: none was). */
  escalationRate: number | null;
  /** Share of leaves whose final answer is the true one (the teacher's quality as the next student sees it). */
  transcriptAccuracy: number;
  /** Metrics of the student distilled from this iteration's transcripts. */
  student: { proxyVersionId: string; fidelity: number; groundTruthAgreement: number; drift: number | null } | null;
}

export function iterationKpis(iteration: number, answeredBy: string, queryCount: number, leaves: readonly TranscriptLeaf[]): IterationKpis {
  const proxyAssigned = leaves.filter((l) => l.assignedToProxy);
  const proxyAnswered = leaves.filter((l) => l.answerKind === 'proxy' || l.answerKind === 'ensemble');
  const escalations = leaves.filter((l) => l.escalated).length;
  const overrides = leaves.filter((l) => l.overridden).length;
  const correct = leaves.filter((l) => {
    const digits = parseQuestion(l.question);
    return digits !== null && l.teacherAnswer.trim() === String(groundTruth(digits));
  }).length;
  const overriddenProxy = proxyAnswered.filter((l) => l.overridden).length;
  return {
    iteration,
    answeredBy,
    queries: queryCount,
    leaves: leaves.length,
    humanAnswers: leaves.filter((l) => l.answerKind === 'human').length,
    proxyAnswers: proxyAnswered.length,
    escalations,
    overrides,
    overrideRate: proxyAnswered.length === 0 ? null : overriddenProxy / proxyAnswered.length,
    escalationRate: proxyAssigned.length === 0 ? null : escalations / proxyAssigned.length,
    transcriptAccuracy: leaves.length === 0 ? 0 : correct / leaves.length,
    student: null,
  };
}

const pct = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(1)}%`);

export function formatKpiTable(rows: readonly IterationKpis[]): string {
  const header = ['iter', 'answered by', 'queries', 'leaves', 'human', 'proxy', 'escalated', 'overridden', 'escalation rate', 'override rate', 'transcript acc.', 'student fidelity', 'student truth', 'student drift'];
  const body = rows.map((r) => [
    String(r.iteration),
    r.answeredBy,
    String(r.queries),
    String(r.leaves),
    String(r.humanAnswers),
    String(r.proxyAnswers),
    String(r.escalations),
    String(r.overrides),
    pct(r.escalationRate),
    pct(r.overrideRate),
    pct(r.transcriptAccuracy),
    pct(r.student?.fidelity ?? null),
    pct(r.student?.groundTruthAgreement ?? null),
    pct(r.student?.drift ?? null),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** The parts of `GET /v1/lineage/:id` the printout reads. */
export interface LineageGraph {
  root: string;
  direction: string;
  truncated: boolean;
  nodes: { kind: string; id: string; generation: number; proxy?: { name: string; version: string; stage: string } | null; run?: { status: string } | null }[];
  edges: { kind: string; from: string; fromKind: string; to: string; toKind: string }[];
}

const short = (id: string) => (id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id);

/** One block per proxy generation: the proxy, its run, the run's parent and teachers, and who answered its dataset. */
export function formatLineage(graph: LineageGraph): string {
  const lines = [`lineage of ${short(graph.root)} (${graph.direction}${graph.truncated ? ', truncated' : ''})`];
  const edgesFrom = (kind: string, from: string, fromKind?: string) =>
    graph.edges.filter((e) => e.kind === kind && e.from === from && (fromKind === undefined || e.fromKind === fromKind));
  const proxies = graph.nodes.filter((n) => n.kind === 'proxy').sort((a, b) => a.generation - b.generation);
  for (const proxy of proxies) {
    const label = proxy.proxy ? `${proxy.proxy.name}@${proxy.proxy.version} [${proxy.proxy.stage}]` : '[not registered]';
    lines.push(`gen ${proxy.generation}: proxy ${short(proxy.id)} ${label}`);
    for (const { to: runId } of edgesFrom('registeredFrom', proxy.id, 'proxy')) {
      const run = graph.nodes.find((n) => n.kind === 'run' && n.id === runId);
      lines.push(`  ← run ${short(runId)} [${run?.run?.status ?? '?'}]`);
      const parents = edgesFrom('parent', runId, 'run').map((e) => short(e.to));
      const teachers = edgesFrom('teacher', runId, 'run').map((e) => short(e.to));
      lines.push(`     parent: ${parents.join(', ') || 'none (iteration 0)'}; teacher proxies: ${teachers.join(', ') || 'none (humans only)'}`);
      const queries = edgesFrom('trainedOn', runId, 'run').map((e) => e.to);
      const answerers = new Map<string, number>();
      for (const queryId of queries) {
        for (const e of edgesFrom('answeredBy', queryId, 'query')) {
          const who = `${e.toKind} ${e.toKind === 'proxy' ? short(e.to) : e.to}`;
          answerers.set(who, (answerers.get(who) ?? 0) + 1);
        }
      }
      const summary = [...answerers.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([who, n]) => `${who} (${n} queries)`);
      lines.push(`     trained on ${queries.length} queries answered by: ${summary.join(', ') || 'nobody recorded'}`);
    }
  }
  return lines.join('\n');
}
