/**
 * The lineage graph (docs/ida-domain.md, "Projections"), one per tenant. Nodes: `proxy`, `run`, `query`
 * (a dataset member), `human` (a subject). Edges, each kept once:
 *   proxy —registeredFrom→ run        ProxyRegistered from a distillation run
 *   proxy —parent→ proxy              ProxyRegistered by import, with a declared parent
 *   run —parent→ proxy                DistillationRunStarted.parentProxyVersionId
 *   run —trainedOn→ query             DistillationRunStarted.dataset.queryIds
 *   run —teacher→ proxy               DistillationRunStarted.teacher.proxyVersionIds
 *   query —answeredBy→ human          HumanAnswerRecorded / HumanOverrideRecorded (actor.sub)
 *   query —answeredBy→ proxy          a proxy answer that answered a node: a single job at or above the query's
 *                                     threshold, or every member of an ensemble aggregate at or above it
 *
 * The answeredBy edges come from the decision trees' fold of each query event (`QueryDerivedProjection`: the
 * event is parsed and checked there once). Walks (`lineage`) keep adjacency lists both ways and run an iterative, generation-by-generation BFS with a
 * visited set, so a 1,000-generation chain answers in about a millisecond.
 */
import { jobOnNode } from '../../amplification/query.state.js';
import { CanonicalArrayDigest, compareStrings, fastCanonicalJson } from '../canonical-digest.js';
import { parseProjectedEvent, type ProxyStage } from '../projected-events.js';
import { assertNever, type ProjectionEntry } from '../projection.js';
import { QueryDerivedProjection, type FoldedForDerived } from '../query-derived-projection.js';

export type LineageNodeKind = 'proxy' | 'run' | 'query' | 'human';
export type LineageEdgeKind = 'registeredFrom' | 'parent' | 'trainedOn' | 'answeredBy' | 'teacher';
export type LineageDirection = 'ancestors' | 'descendants';
export type RunStatus = 'started' | 'completed' | 'failed';

/** A node as the API shows it; (`kind`, `id`) identifies it (a proxy version and its run share the id). */
export type LineageNodeView = {
  kind: LineageNodeKind;
  id: string;
  /** Proxy generations from the root (0: the root, its run and that run's dataset). */
  generation: number;
  /** Proxies: as registered (null for a proxy only referred to, never registered in this tenant). */
  proxy?: { name: string; version: string; stage: ProxyStage; source: 'distillation' | 'imported' } | null;
  /** Runs: null for a run only referred to. */
  run?: { status: RunStatus } | null;
};

/** An edge: `from` and `to` are node ids, `fromKind` and `toKind` their kinds. */
export type LineageEdgeView = { kind: LineageEdgeKind; from: string; fromKind: LineageNodeKind; to: string; toKind: LineageNodeKind };

export type LineageGraph = {
  /** The proxy version walked from. */
  root: string;
  direction: LineageDirection;
  /** The depth asked for (null: unlimited). */
  depth: number | null;
  /** True when the walk stopped at `depth` while the graph went on. */
  truncated: boolean;
  nodes: LineageNodeView[];
  edges: LineageEdgeView[];
};

interface GraphNode {
  kind: LineageNodeKind;
  id: string;
  /** Edges from / to this node, in the order they were added; EMPTY (shared) until the first one. */
  out: GraphEdge[];
  in: GraphEdge[];
  /** For a node with many edges out: the kinds of edge (bits) to each node it links to, to keep each edge once. */
  linked: Map<GraphNode, number> | null;
  /**
   * The target and kind of the last edge added from this node: a query's answers mostly come from the same
   * human or proxy, so most links repeat the last one and are dismissed without reading the edges.
   */
  lastTo: GraphNode | null;
  lastBit: number;
  proxy: { name: string; version: string; stage: ProxyStage; source: 'distillation' | 'imported' } | null;
  run: { status: RunStatus } | null;
}

interface GraphEdge {
  kind: LineageEdgeKind;
  from: GraphNode;
  to: GraphNode;
}

const EMPTY: GraphEdge[] = Object.freeze([]) as unknown as GraphEdge[];
const EDGE_BIT: Record<LineageEdgeKind, number> = { registeredFrom: 1, parent: 2, trainedOn: 4, answeredBy: 8, teacher: 16 };
/** Edges out of a node scanned for a duplicate before it gets a `linked` index (most nodes have one to three). */
const SCAN_LIMIT = 16;

/** The node's key, `kind:id`: nodes and edges are sorted by it in the digest (built then, not kept). */
function keyOf(node: GraphNode): string {
  return `${node.kind}:${node.id}`;
}

function append(list: GraphEdge[], edge: GraphEdge): GraphEdge[] {
  if (list.length === 0) return [edge];
  list.push(edge);
  return list;
}

class TenantGraph {
  /** One map per kind, by id (no `kind:id` string per node). */
  private readonly byKind: Record<LineageNodeKind, Map<string, GraphNode>> = {
    proxy: new Map(),
    run: new Map(),
    query: new Map(),
    human: new Map(),
  };

  node(kind: LineageNodeKind, id: string): GraphNode {
    const nodes = this.byKind[kind];
    let node = nodes.get(id);
    if (node === undefined) {
      node = { kind, id, out: EMPTY, in: EMPTY, linked: null, lastTo: null, lastBit: 0, proxy: null, run: null };
      nodes.set(id, node);
    }
    return node;
  }

  find(kind: LineageNodeKind, id: string): GraphNode | undefined {
    return this.byKind[kind].get(id);
  }

  /** Every node. */
  *nodes(): Generator<GraphNode> {
    for (const nodes of Object.values(this.byKind)) yield* nodes.values();
  }

  /** Adds the edge unless it is there already (each edge is kept once). */
  link(from: GraphNode, kind: LineageEdgeKind, to: GraphNode): void {
    const bit = EDGE_BIT[kind];
    if (from.lastTo === to && from.lastBit === bit) return;
    if (from.linked !== null) {
      const bits = from.linked.get(to) ?? 0;
      if ((bits & bit) !== 0) return;
      from.linked.set(to, bits | bit);
    } else {
      for (const edge of from.out) if (edge.to === to && edge.kind === kind) return;
    }
    from.lastTo = to;
    from.lastBit = bit;
    const edge: GraphEdge = { kind, from, to };
    from.out = append(from.out, edge);
    to.in = append(to.in, edge);
    if (from.linked === null && from.out.length > SCAN_LIMIT) {
      const linked = new Map<GraphNode, number>();
      for (const e of from.out) linked.set(e.to, (linked.get(e.to) ?? 0) | EDGE_BIT[e.kind]);
      from.linked = linked;
    }
  }
}

export class LineageProjection extends QueryDerivedProjection {
  readonly name = 'lineage';
  private readonly graphs = new Map<string, TenantGraph>();

  /**
   * The lineage of a proxy version of `tenant`, or undefined when the tenant has registered no such proxy.
   * `depth`: proxy generations to walk (undefined: all).
   */
  lineage(tenant: string, proxyVersionId: string, direction: LineageDirection, depth?: number): LineageGraph | undefined {
    this.assertHealthy();
    const root = this.graphs.get(tenant)?.find('proxy', proxyVersionId);
    if (root === undefined || root.proxy === null) return undefined;
    return walk(root, direction, depth);
  }

  protected foldDerived(integrated: ProjectionEntry, query: FoldedForDerived | null): boolean {
    if (query !== null) {
      const { event, state } = query;
      switch (event.type) {
        case 'InferenceCompleted': {
          // The decision trees checked the job (requested on this node, pending, of this proxy version).
          const d = event.data;
          const { job } = jobOnNode(state, d.nodeId, d.jobId)!;
          if (!job.ensemble && d.confidence >= state.confidenceThreshold) this.answeredBy(state.tenant, state.queryId, 'proxy', job.proxyVersionId);
          return true;
        }
        case 'EnsembleAnswerAggregated': {
          // Its members are the node's completed ensemble jobs, each of the proxy version named (checked there).
          if (event.data.confidence >= state.confidenceThreshold)
            for (const member of event.data.members) this.answeredBy(state.tenant, state.queryId, 'proxy', member.proxyVersionId);
          return true;
        }
        case 'HumanAnswerRecorded':
        case 'HumanOverrideRecorded':
          this.answeredBy(state.tenant, state.queryId, 'human', event.meta.actor.sub);
          return true;
        case 'AmplificationQueryOpened':
        case 'InferenceRequested':
          return true;
        case 'SubqueriesDelegated':
        case 'EscalatedToHuman':
        case 'AnswerComposed':
        case 'QueryStopped':
          return false;
        default:
          return assertNever(event);
      }
    }
    const event = parseProjectedEvent(integrated.entry);
    if (event === null) return false;
    switch (event.type) {
      case 'DistillationRunStarted': {
        const graph = this.graph(event);
        const run = graph.node('run', event.runId);
        if (run.run !== null) throw new Error(`run ${event.runId} started twice`);
        run.run = { status: 'started' };
        if (event.parentProxyVersionId !== null) graph.link(run, 'parent', graph.node('proxy', event.parentProxyVersionId));
        for (const queryId of event.queryIds) graph.link(run, 'trainedOn', graph.node('query', queryId));
        for (const proxyVersionId of event.teacherProxyVersionIds) graph.link(run, 'teacher', graph.node('proxy', proxyVersionId));
        return true;
      }
      case 'DistillationRunCompleted':
      case 'DistillationRunFailed': {
        const run = this.graph(event).find('run', event.runId);
        if (run?.run == null) throw new Error(`run ${event.runId} was never started`);
        if (run.run.status !== 'started') throw new Error(`run ${event.runId} already ${run.run.status}`);
        run.run.status = event.type === 'DistillationRunCompleted' ? 'completed' : 'failed';
        return true;
      }
      case 'ProxyRegistered': {
        const graph = this.graph(event);
        const proxy = graph.node('proxy', event.proxyVersionId);
        if (proxy.proxy !== null) throw new Error(`proxy ${event.proxyVersionId} registered twice`);
        proxy.proxy = { name: event.name, version: event.version, stage: 'candidate', source: event.source.kind };
        if (event.source.kind === 'distillation') graph.link(proxy, 'registeredFrom', graph.node('run', event.source.runId));
        else if (event.parentProxyVersionId !== null) graph.link(proxy, 'parent', graph.node('proxy', event.parentProxyVersionId));
        return true;
      }
      case 'ProxyPromoted':
      case 'ProxyDemoted':
      case 'ProxyRetired': {
        const id = event.stream.slice('proxy-'.length);
        const proxy = this.graph(event).find('proxy', id);
        if (proxy?.proxy == null) throw new Error(`proxy ${id} was never registered`);
        proxy.proxy.stage = event.type === 'ProxyRetired' ? 'retired' : event.to;
        return true;
      }
      default:
        return assertNever(event);
    }
  }

  protected *digestSteps(): Generator<void, string, void> {
    // Per tenant: `{edges, nodes, tenant}` — every node (sorted by key `kind:id`) with its details, every edge
    // (sorted by the key `from key \0 kind \0 to key`, i.e. by from, kind, to). A tenant's element is written
    // member by member in RFC 8785 order and item by item: the very bytes `fastCanonicalJson` would write for
    // it at once, with chances to give the event loop back in between.
    const digest = new CanonicalArrayDigest();
    for (const tenant of [...this.graphs.keys()].sort(compareStrings)) {
      const graph = this.graphs.get(tenant)!;
      const nodes = [...graph.nodes()].map((node) => ({ key: keyOf(node), node }));
      nodes.sort((a, b) => compareStrings(a.key, b.key));
      const keys = new Map(nodes.map(({ key, node }) => [node, key]));
      const edges: { key: string; edge: GraphEdge }[] = [];
      for (const { key, node } of nodes) for (const edge of node.out) edges.push({ key: `${key}\u0000${edge.kind}\u0000${keys.get(edge.to)!}`, edge });
      edges.sort((a, b) => compareStrings(a.key, b.key));
      yield;
      digest.beginElement().write('{"edges":');
      yield* writeArray(digest, edges, ({ edge }) => edgeView(edge));
      digest.write(',"nodes":');
      yield* writeArray(digest, nodes, ({ node }) => ({ kind: node.kind, id: node.id, ...details(node) }));
      digest.write(`,"tenant":${JSON.stringify(tenant)}}`);
    }
    return digest.finish();
  }

  private graph(event: { meta: { tenant: string } }): TenantGraph {
    return this.graphOf(event.meta.tenant);
  }

  private graphOf(tenant: string): TenantGraph {
    let graph = this.graphs.get(tenant);
    if (graph === undefined) this.graphs.set(tenant, (graph = new TenantGraph()));
    return graph;
  }

  private answeredBy(tenant: string, queryId: string, kind: 'human' | 'proxy', id: string): void {
    const graph = this.graphOf(tenant);
    graph.link(graph.node('query', queryId), 'answeredBy', graph.node(kind, id));
  }
}

/** Items serialised between two chances to give the event loop back. */
const SLICE_ITEMS = 1024;

/** `[v0,v1,…]` of the items' views, written a slice at a time. */
function* writeArray<T>(digest: CanonicalArrayDigest, items: readonly T[], view: (item: T) => object): Generator<void, void, void> {
  const parts: string[] = ['['];
  for (let i = 0; i < items.length; i++) {
    if (i > 0) parts.push(',');
    parts.push(fastCanonicalJson(view(items[i]!)));
    if (i % SLICE_ITEMS === SLICE_ITEMS - 1) {
      digest.write(parts.join(''));
      parts.length = 0;
      yield;
    }
  }
  parts.push(']');
  digest.write(parts.join(''));
}

function edgeView(edge: GraphEdge): LineageEdgeView {
  return { kind: edge.kind, from: edge.from.id, fromKind: edge.from.kind, to: edge.to.id, toKind: edge.to.kind };
}

function details(node: GraphNode): Pick<LineageNodeView, 'proxy' | 'run'> {
  if (node.kind === 'proxy') return { proxy: node.proxy === null ? null : { ...node.proxy } };
  if (node.kind === 'run') return { run: node.run === null ? null : { ...node.run } };
  return {};
}

/**
 * What one step of a walk does with an edge: `same` (the other end is in the same generation, walk on),
 * `next` (a proxy of the next generation, walk on from it), `leaf` (show the other end, do not walk from it),
 * `skip` (not part of this walk).
 */
type Step = 'same' | 'next' | 'leaf' | 'skip';

/**
 * Ancestors follow edges forwards: proxy → its run → the run's parent and teacher proxies (next generation)
 * and dataset queries → who answered them. A proxy that answered a dataset query is shown but not walked
 * from: it may have answered after the run started; the run's teacher edges name the proxies that taught it.
 */
function ancestorStep(edge: GraphEdge): Step {
  switch (edge.kind) {
    case 'registeredFrom':
    case 'trainedOn':
      return 'same';
    case 'parent':
    case 'teacher':
      return 'next';
    case 'answeredBy':
      return 'leaf';
    default:
      return assertNever(edge.kind);
  }
}

/**
 * Descendants follow edges backwards: proxy ← runs it was parent or teacher of, or queries it answered ←
 * runs trained on them ← the proxies registered from those runs (next generation), and imported children.
 */
function descendantStep(edge: GraphEdge): Step {
  switch (edge.kind) {
    case 'registeredFrom':
    case 'parent':
      // run ← proxy registered from it; proxy ← imported child, proxy ← run with it as parent.
      return edge.from.kind === 'proxy' ? 'next' : 'same';
    case 'teacher':
    case 'answeredBy':
    case 'trainedOn':
      return 'same';
    default:
      return assertNever(edge.kind);
  }
}

function walk(root: GraphNode, direction: LineageDirection, depth: number | undefined): LineageGraph {
  const maxGeneration = depth ?? Number.POSITIVE_INFINITY;
  const forwards = direction === 'ancestors';
  const step = forwards ? ancestorStep : descendantStep;
  const generation = new Map<GraphNode, number>([[root, 0]]);
  const order: GraphNode[] = [root];
  const expanded = new Set<GraphNode>();
  const edges: GraphEdge[] = [];
  const seenEdges = new Set<GraphEdge>();
  let truncated = false;

  const include = (node: GraphNode, g: number): void => {
    if (generation.has(node)) return;
    generation.set(node, g);
    order.push(node);
  };
  const keep = (edge: GraphEdge): void => {
    if (seenEdges.has(edge)) return;
    seenEdges.add(edge);
    edges.push(edge);
  };

  let frontier: GraphNode[] = [root];
  for (let g = 0; frontier.length > 0; g++) {
    const next: GraphNode[] = [];
    // `frontier` grows while it is walked: nodes of the same generation are appended to it.
    for (let i = 0; i < frontier.length; i++) {
      const node = frontier[i]!;
      if (expanded.has(node)) continue;
      expanded.add(node);
      for (const edge of forwards ? node.out : node.in) {
        const other = forwards ? edge.to : edge.from;
        const kind = step(edge);
        if (kind === 'skip') continue;
        if (kind === 'next') {
          if (g + 1 > maxGeneration) {
            truncated = true;
            continue;
          }
          include(other, g + 1);
          keep(edge);
          if (expanded.has(other)) continue;
          // A proxy at the limit is shown, not walked from; walking on would have found more.
          if (g + 1 < maxGeneration) next.push(other);
          else if (hasWalkableEdges(other, forwards, step)) truncated = true;
          continue;
        }
        // A proxy shown as a leaf (it answered a dataset query) counts as one generation further.
        include(other, kind === 'leaf' && other.kind === 'proxy' ? g + 1 : g);
        keep(edge);
        if (kind === 'same' && !expanded.has(other)) frontier.push(other);
      }
    }
    frontier = next;
  }

  const view = (node: GraphNode): LineageNodeView => ({ kind: node.kind, id: node.id, generation: generation.get(node)!, ...details(node) });
  return { root: root.id, direction, depth: depth ?? null, truncated, nodes: order.map(view), edges: edges.map(edgeView) };
}

/** Whether walking from `node` would go anywhere (a proxy at the depth limit with nothing beyond is no truncation). */
function hasWalkableEdges(node: GraphNode, forwards: boolean, step: (edge: GraphEdge) => Step): boolean {
  return (forwards ? node.out : node.in).some((edge) => step(edge) !== 'skip');
}
