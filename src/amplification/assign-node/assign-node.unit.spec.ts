import { describe, expect, it } from '@jest/globals';
import type { PolicyDecision } from '../../policy/policy-engine.port.js';
import { engineWith } from '../../policy/policy.test-kit.js';
import { runInferenceRequest } from '../../policy/policy-requests.js';
import type { ProxySnapshot } from '../proxy-snapshot.js';
import { modelInputDigest, type QueryEvent } from '../query.events.js';
import { decisionTree, initialQueryState, nodeStatus, replay, type QueryState } from '../query.state.js';
import {
  allowAll,
  decisionsFor,
  ENSEMBLE,
  ev,
  given,
  history,
  policyDecision,
  proxies,
  record,
  refusal,
  ROOT,
  sequentialIds,
  sha,
  TENANT,
  type Given,
} from '../query.test-kit.js';
import { decideAssignNode, gateInputs, MAX_ENSEMBLE_SIZE, type AssignNodeCommand } from './assign-node.command.js';

const ids = () => sequentialIds('j');
const assign = (
  command: AssignNodeCommand,
  state = given(...history.decomposed()),
  known = proxies,
  decisions: ReadonlyMap<string, PolicyDecision> = allowAll(),
) => decideAssignNode(command, state, known, decisions, ids());
/** The state after `events` on top of `earlier` (recorded with increasing revisions). */
const after = (earlier: Given[], events: QueryEvent[]): QueryState => replay(record([...earlier, ...events]));

describe('assign-node', () => {
  describe('given a decomposed root with open leaves n-1, n-2', () => {
    it('when a leaf is assigned to a human, then NodeAssigned {kind: human} and no job', () => {
      expect(assign({ nodeId: 'n-1', to: 'human' })).toEqual([ev.assigned('n-1', { kind: 'human' })]);
    });

    it('when a leaf is assigned to a production proxy the gate allows, then NodeAssigned + InferenceRequested (artifact, input {question}) + PolicyDecisionRecorded + InferenceAuthorized', () => {
      expect(assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' })).toEqual([
        ev.assigned('n-1', { kind: 'proxy', proxyVersionId: 'p-prod', jobId: 'j-1' }),
        ...ev.granted('n-1', 'j-1', 'p-prod', false, 'Dose within label?'),
      ]);
    });

    it("when a leaf is assigned to a shadow proxy the gate allows, then it is authorised too (serving is the gate's call)", () => {
      const [assigned, requested] = assign({ nodeId: 'n-2', to: 'proxy', proxyVersionId: 'p-shadow' });
      expect(assigned.data.assignee).toEqual({ kind: 'proxy', proxyVersionId: 'p-shadow', jobId: 'j-1' });
      expect(requested).toEqual(ev.requested('n-2', 'j-1', 'p-shadow', false, 'Interactions?'));
      expect(requested!.data).toMatchObject({ artifactSha256: sha('p-shadow') });
    });

    it('when a leaf is assigned to an ensemble of 3, then NodeAssigned (majority, members in order) + each job requested, decided and authorised', () => {
      expect(assign({ nodeId: 'n-1', to: 'ensemble', proxyVersionIds: ['p-prod', 'p-prod2', 'p-shadow'] })).toEqual([
        ev.assigned('n-1', { kind: 'ensemble', method: 'majority', members: ENSEMBLE }),
        ...ENSEMBLE.flatMap((m) => ev.granted('n-1', m.jobId, m.proxyVersionId, true, 'Dose within label?')),
      ]);
    });

    it('when the pipeline gives a model input, then every job carries it and its RFC 8785 digest, and the authorisation binds that digest', () => {
      const input = { features: [0.5, 1, -2], labels: ['no', 'yes'] };
      const events = assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod', input });
      expect(events[1]!.data).toMatchObject({ input, inputDigest: modelInputDigest(input) });
      expect(events[3]).toMatchObject({
        type: 'InferenceAuthorized',
        data: { inputDigest: modelInputDigest({ labels: ['no', 'yes'], features: [0.5, 1, -2] }) },
      });
    });

    it('when the input is not canonical JSON (a non-finite number), then QUERY.INVALID_COMMAND naming input', () => {
      expect(refusal(() => assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod', input: { x: Number.NaN } }))).toMatchObject({
        code: 'QUERY.INVALID_COMMAND',
        details: { field: 'input' },
      });
    });

    it('when the handler passed no decision for a job, then an internal error (never an implicit allow)', () => {
      expect(refusal(() => assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' }, undefined, proxies, new Map()))).toMatchObject({
        code: 'QUERY.POLICY_DECISION_MISSING',
        category: 'internal',
      });
    });
  });

  describe('given a decomposed root, and a gate that denies', () => {
    const denyAll = decisionsFor([...proxies.keys()], 'deny');

    it('when a leaf is assigned to one proxy, then the job is decided deny, InferenceDenied (why), and the node escalates to a human (inference_denied)', () => {
      const events = assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' }, undefined, proxies, denyAll);
      expect(events).toEqual([
        ev.assigned('n-1', { kind: 'proxy', proxyVersionId: 'p-prod', jobId: 'j-1' }),
        ev.requested('n-1', 'j-1', 'p-prod', false, 'Dose within label?'),
        ev.decided('n-1', 'j-1', 'deny'),
        ev.denied('n-1', 'j-1', 'p-prod'),
        ev.escalated('n-1', {
          reason: 'inference_denied',
          jobId: 'j-1',
          note: 'policy gate denied: forbidden by run-inference.forbid-low-fidelity',
        }),
      ]);
      const state = after(history.decomposed(), events);
      const n1 = state.status === 'none' ? undefined : state.nodes.get('n-1');
      expect(nodeStatus(n1!)).toBe('escalated');
      expect(n1!.jobs[0]).toMatchObject({
        status: 'denied',
        gate: { decision: 'deny', outcome: 'denied', reason: 'forbidden by run-inference.forbid-low-fidelity' },
      });
    });

    it('when an ensemble has one member denied, then only that member is denied; the others run and vote, no escalation', () => {
      const decisions = new Map([...allowAll(), ['p-shadow', policyDecision('deny')]]);
      const events = assign({ nodeId: 'n-1', to: 'ensemble', proxyVersionIds: ['p-prod', 'p-prod2', 'p-shadow'] }, undefined, proxies, decisions);
      expect(events.map((e) => e.type)).toEqual([
        'NodeAssigned',
        ...['InferenceRequested', 'PolicyDecisionRecorded', 'InferenceAuthorized'],
        ...['InferenceRequested', 'PolicyDecisionRecorded', 'InferenceAuthorized'],
        ...['InferenceRequested', 'PolicyDecisionRecorded', 'InferenceDenied'],
      ]);
      const tree = decisionTree(after(history.decomposed(), events));
      const n1 = tree.root.children.find((c) => c.nodeId === 'n-1')!;
      expect(n1.status).toBe('assigned');
      expect(n1.jobs.map((j) => [j.jobId, j.status, j.policy?.decision, j.policy?.outcome])).toEqual([
        ['j-1', 'pending', 'allow', 'authorized'],
        ['j-2', 'pending', 'allow', 'authorized'],
        ['j-3', 'denied', 'deny', 'denied'],
      ]);
    });

    it('when every member of an ensemble is denied, then the node escalates (jobId null, every reason in the note)', () => {
      const events = assign({ nodeId: 'n-1', to: 'ensemble', proxyVersionIds: ['p-prod', 'p-shadow'] }, undefined, proxies, denyAll);
      expect(events.at(-1)).toEqual(
        ev.escalated('n-1', {
          reason: 'inference_denied',
          jobId: null,
          note:
            'policy gate denied: p-prod: forbidden by run-inference.forbid-low-fidelity; p-shadow: forbidden by run-inference.forbid-low-fidelity',
        }),
      );
    });

    it('when the engine failed closed (an evaluation error), then the reason says so', () => {
      const failed = policyDecision('deny', { determiningPolicies: [], errors: ['request: bad attribute'] });
      const events = assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' }, undefined, proxies, new Map([['p-prod', failed]]));
      expect(events[3]).toMatchObject({
        type: 'InferenceDenied',
        data: { reason: 'evaluation failed closed: request: bad attribute', determiningPolicies: [] },
      });
    });

    it('when the escalated node is then assigned to a human, that is allowed (once)', () => {
      const events = assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' }, undefined, proxies, denyAll);
      const state = after(history.decomposed(), events);
      expect(assign({ nodeId: 'n-1', to: 'human' }, state)).toEqual([ev.assigned('n-1', { kind: 'human' })]);
    });
  });

  describe('with the shipped Cedar policies (gateInputs → engine → decider, as the handler does)', () => {
    const engine = engineWith();
    const run = (command: AssignNodeCommand, state: QueryState, known: ReadonlyMap<string, ProxySnapshot> = proxies) => {
      const decisions = new Map<string, PolicyDecision>();
      for (const [id, input] of gateInputs(command, state, known, 'svc-orchestrator')) {
        decisions.set(id, engine.decide(TENANT, runInferenceRequest(input)));
      }
      return decideAssignNode(command, state, known, decisions, ids());
    };
    const decisionOf = (events: QueryEvent[]) =>
      events.find((e) => e.type === 'PolicyDecisionRecorded')!.data as { decision: string; determiningPolicies: string[] };

    it('a production proxy with good metrics: allow by the production permit, with the recorded request and set digest', () => {
      const events = run({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' }, given(...history.decomposed()));
      expect(decisionOf(events)).toMatchObject({ decision: 'allow', determiningPolicies: ['run-inference.permit-production'] });
      expect(events[2]!.data).toMatchObject({
        policySetDigest: expect.stringMatching(/^sha256:/u),
        request: { context: { depth: 1, dataClassification: 'internal', taskClass: '', mode: 'serving' } },
      });
      expect(events.map((e) => e.type)).toContain('InferenceAuthorized');
    });

    it('a shadow proxy in serving mode: deny (no permit), escalated', () => {
      const events = run({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-shadow' }, given(...history.decomposed()));
      expect(decisionOf(events).decision).toBe('deny');
      expect(events.at(-1)).toMatchObject({ type: 'EscalatedToHuman', data: { reason: 'inference_denied' } });
    });

    it('a production proxy whose fidelity is unknown, or whose drift is above the limit: deny by the forbids', () => {
      const unknown = new Map(proxies).set('p-prod', { ...proxies.get('p-prod')!, fidelity: null });
      expect(decisionOf(run({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' }, given(...history.decomposed()), unknown))).toMatchObject({
        decision: 'deny',
        determiningPolicies: ['run-inference.forbid-low-fidelity'],
      });
      const drifting = new Map(proxies).set('p-prod', { ...proxies.get('p-prod')!, drift: 0.35 });
      expect(decisionOf(run({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' }, given(...history.decomposed()), drifting))).toMatchObject({
        decision: 'deny',
        determiningPolicies: ['run-inference.forbid-drift-above-limit'],
      });
    });

    it("restricted data: the query's classification reaches the gate (production still allowed)", () => {
      const restricted = given(ev.opened({ dataClassification: 'restricted' }), ...history.decomposed().slice(1));
      const events = run({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' }, restricted);
      expect(events[2]!.data).toMatchObject({ decision: 'allow', request: { context: { dataClassification: 'restricted' } } });
    });

    it("gateInputs asks nothing for a human or an unknown node, and nothing about another tenant's proxy", () => {
      const state = given(...history.decomposed());
      expect(gateInputs({ nodeId: 'n-1', to: 'human' }, state, proxies, 's').size).toBe(0);
      expect(gateInputs({ nodeId: 'ghost', to: 'proxy', proxyVersionId: 'p-prod' }, state, proxies, 's').size).toBe(0);
      expect([...gateInputs({ nodeId: 'n-1', to: 'ensemble', proxyVersionIds: ['p-prod', 'p-foreign'] }, state, proxies, 's').keys()]).toEqual([
        'p-prod',
      ]);
    });

    it.each<[string, AssignNodeCommand, string]>([
      ['an ensemble of one', { nodeId: 'n-1', to: 'ensemble', proxyVersionIds: ['p-prod'] }, 'proxyVersionIds'],
      [
        'an ensemble of ten',
        { nodeId: 'n-1', to: 'ensemble', proxyVersionIds: Array.from({ length: MAX_ENSEMBLE_SIZE + 1 }, (_, i) => `p-${i}`) },
        'proxyVersionIds',
      ],
      ['an ensemble naming a version twice', { nodeId: 'n-1', to: 'ensemble', proxyVersionIds: ['p-prod', 'p-prod'] }, 'proxyVersionIds'],
      ['an empty proxy version id', { nodeId: 'n-1', to: 'proxy', proxyVersionId: '' }, 'proxyVersionId'],
      ['an empty ensemble member id', { nodeId: 'n-1', to: 'ensemble', proxyVersionIds: ['p-prod', ''] }, 'proxyVersionIds[1]'],
      ['an unknown target', { nodeId: 'n-1', to: 'robot' } as never, 'to'],
      ['an empty node id', { nodeId: '', to: 'human' }, 'nodeId'],
    ])('when given %s, then QUERY.INVALID_COMMAND naming the field', (_, command, field) => {
      expect(refusal(() => assign(command))).toMatchObject({ code: 'QUERY.INVALID_COMMAND', category: 'unprocessable', details: { field } });
    });

    it.each([
      ['an unknown proxy version', 'p-ghost'],
      ["another tenant's proxy version (refused like an unknown one)", 'p-foreign'],
    ])('when assigned to %s, then QUERY.PROXY_NOT_FOUND (422)', (_, proxyVersionId) => {
      expect(refusal(() => assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId }))).toMatchObject({
        code: 'QUERY.PROXY_NOT_FOUND',
        category: 'unprocessable',
        details: { proxyVersionId },
      });
    });

    it('when a snapshot is filed under another id than its own, then QUERY.PROXY_NOT_FOUND (never the wrong artifact)', () => {
      const mixedUp = new Map<string, ProxySnapshot>([['p-x', { ...proxies.get('p-prod')! }]]);
      expect(refusal(() => assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-x' }, undefined, mixedUp)).code).toBe(
        'QUERY.PROXY_NOT_FOUND',
      );
    });

    it.each([
      ['a candidate', 'p-cand', 'candidate'],
      ['a retired', 'p-retired', 'retired'],
    ])('when assigned to %s proxy, then QUERY.PROXY_NOT_SERVING (409) naming the stage', (_, proxyVersionId, stage) => {
      expect(refusal(() => assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId }))).toMatchObject({
        code: 'QUERY.PROXY_NOT_SERVING',
        category: 'conflict',
        details: { proxyVersionId, stage, servingStages: ['shadow', 'production'] },
      });
    });

    it('when one member of an ensemble is a candidate, then the whole assignment is refused', () => {
      expect(refusal(() => assign({ nodeId: 'n-1', to: 'ensemble', proxyVersionIds: ['p-prod', 'p-cand'] })).code).toBe(
        'QUERY.PROXY_NOT_SERVING',
      );
    });

    it('when the decomposed root is assigned, then QUERY.NODE_DECOMPOSED', () => {
      expect(refusal(() => assign({ nodeId: ROOT, to: 'human' }))).toMatchObject({ code: 'QUERY.NODE_DECOMPOSED', category: 'conflict' });
    });

    it('when the node is unknown, then QUERY.NODE_NOT_FOUND', () => {
      expect(refusal(() => assign({ nodeId: 'ghost', to: 'human' }))).toMatchObject({ code: 'QUERY.NODE_NOT_FOUND', category: 'not_found' });
    });

    it('when the id source repeats a job id, then QUERY.JOB_ID_CONFLICT', () => {
      const same = { newId: () => 'j-same' };
      const command: AssignNodeCommand = { nodeId: 'n-1', to: 'ensemble', proxyVersionIds: ['p-prod', 'p-prod2'] };
      expect(refusal(() => decideAssignNode(command, given(...history.decomposed()), proxies, allowAll(), same))).toMatchObject({
        code: 'QUERY.JOB_ID_CONFLICT',
        category: 'conflict',
      });
    });
  });

  describe('given n-1 assigned to p-prod with job j-1 pending', () => {
    const state = given(...history.proxyPending());

    it('when n-1 is assigned again (to anyone), then QUERY.NODE_ALREADY_ASSIGNED with the pending jobs', () => {
      for (const command of [
        { nodeId: 'n-1', to: 'human' },
        { nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod2' },
      ] as AssignNodeCommand[]) {
        expect(refusal(() => assign(command, state))).toMatchObject({
          code: 'QUERY.NODE_ALREADY_ASSIGNED',
          category: 'conflict',
          details: { nodeId: 'n-1', assignee: 'proxy', pendingJobIds: ['j-1'] },
        });
      }
    });

    it('when the id source returns a job id already used in the query, then QUERY.JOB_ID_CONFLICT', () => {
      const reuse = { newId: () => 'j-1' };
      expect(refusal(() => decideAssignNode({ nodeId: 'n-2', to: 'proxy', proxyVersionId: 'p-prod' }, state, proxies, allowAll(), reuse))).toMatchObject({
        code: 'QUERY.JOB_ID_CONFLICT',
        details: { jobId: 'j-1' },
      });
    });
  });

  describe('given n-1 assigned to a human', () => {
    it('when n-1 is assigned to a proxy, then QUERY.NODE_ALREADY_ASSIGNED', () => {
      const state = given(...history.decomposed(), ev.assigned('n-1', { kind: 'human' }));
      expect(refusal(() => assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' }, state))).toMatchObject({
        code: 'QUERY.NODE_ALREADY_ASSIGNED',
        details: { assignee: 'human', pendingJobIds: [] },
      });
    });
  });

  describe('given n-1 escalated for low confidence', () => {
    const state = given(...history.lowConfidence());

    it('when n-1 is reassigned to a human, then NodeAssigned {kind: human}', () => {
      expect(assign({ nodeId: 'n-1', to: 'human' }, state)).toEqual([ev.assigned('n-1', { kind: 'human' })]);
    });

    it.each<[string, AssignNodeCommand]>([
      ['a proxy', { nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod2' }],
      ['an ensemble', { nodeId: 'n-1', to: 'ensemble', proxyVersionIds: ['p-prod', 'p-prod2'] }],
    ])('when n-1 is reassigned to %s, then QUERY.NODE_ESCALATED (409): only a human answers it now', (_, command) => {
      expect(refusal(() => assign(command, state))).toMatchObject({ code: 'QUERY.NODE_ESCALATED', category: 'conflict' });
    });

    it('when n-1 was already reassigned to a human, then QUERY.NODE_ALREADY_ASSIGNED', () => {
      const reassigned = given(...history.lowConfidence(), ev.assigned('n-1', { kind: 'human' }));
      expect(refusal(() => assign({ nodeId: 'n-1', to: 'human' }, reassigned)).code).toBe('QUERY.NODE_ALREADY_ASSIGNED');
    });
  });

  describe('given an open leaf escalated by hand (never assigned)', () => {
    it('when it is assigned to a human, then allowed; to a proxy, QUERY.NODE_ESCALATED', () => {
      const state = given(...history.decomposed(), ev.escalated('n-1'));
      expect(assign({ nodeId: 'n-1', to: 'human' }, state)).toHaveLength(1);
      expect(refusal(() => assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' }, state)).code).toBe('QUERY.NODE_ESCALATED');
    });
  });

  describe('given answered leaves', () => {
    it.each([
      ['by a human', [...history.decomposed(), ev.answered('n-1', 'yes')]],
      ['by a proxy', history.proxyAnswered()],
    ])('when a leaf answered %s is assigned, then QUERY.NODE_ALREADY_ANSWERED', (_, events) => {
      expect(refusal(() => assign({ nodeId: 'n-1', to: 'human' }, given(...events)))).toMatchObject({
        code: 'QUERY.NODE_ALREADY_ANSWERED',
        category: 'conflict',
      });
    });
  });

  describe('given a query in a final or absent state', () => {
    it.each([
      ['no query', () => initialQueryState, 'QUERY.NOT_FOUND', 'not_found'],
      ['a completed query', () => given(...history.completed()), 'QUERY.COMPLETED', 'conflict'],
      ['a stopped query', () => given(...history.stoppedWhileOpen()), 'QUERY.STOPPED', 'conflict'],
    ])('when %s, then %s', (_, state, code, category) => {
      expect(refusal(() => assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' }, state()))).toMatchObject({ code, category });
    });
  });
});
