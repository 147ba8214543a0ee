import { describe, expect, it } from '@jest/globals';
import type { ProxySnapshot } from '../proxy-snapshot.js';
import { initialQueryState } from '../query.state.js';
import { ENSEMBLE, ev, given, history, proxies, refusal, ROOT, sequentialIds, sha } from '../query.test-kit.js';
import { decideAssignNode, MAX_ENSEMBLE_SIZE, type AssignNodeCommand } from './assign-node.command.js';

const ids = () => sequentialIds('j');
const assign = (command: AssignNodeCommand, state = given(...history.decomposed()), known = proxies) =>
  decideAssignNode(command, state, known, ids());

describe('assign-node', () => {
  describe('given a decomposed root with open leaves n-1, n-2', () => {
    it('when a leaf is assigned to a human, then NodeAssigned {kind: human} and no job', () => {
      expect(assign({ nodeId: 'n-1', to: 'human' })).toEqual([ev.assigned('n-1', { kind: 'human' })]);
    });

    it('when a leaf is assigned to a production proxy, then NodeAssigned + one InferenceRequested with its artifact and the question', () => {
      expect(assign({ nodeId: 'n-1', to: 'proxy', proxyVersionId: 'p-prod' })).toEqual([
        ev.assigned('n-1', { kind: 'proxy', proxyVersionId: 'p-prod', jobId: 'j-1' }),
        ev.requested('n-1', 'j-1', 'p-prod', false, 'Dose within label?'),
      ]);
    });

    it('when a leaf is assigned to a shadow proxy, then it is allowed too', () => {
      const [assigned, requested] = assign({ nodeId: 'n-2', to: 'proxy', proxyVersionId: 'p-shadow' });
      expect(assigned.data.assignee).toEqual({ kind: 'proxy', proxyVersionId: 'p-shadow', jobId: 'j-1' });
      expect(requested).toEqual(ev.requested('n-2', 'j-1', 'p-shadow', false, 'Interactions?'));
      expect(requested!.data).toMatchObject({ artifactSha256: sha('p-shadow') });
    });

    it('when a leaf is assigned to an ensemble of 3, then NodeAssigned (majority, members in order) + one ensemble job each', () => {
      expect(assign({ nodeId: 'n-1', to: 'ensemble', proxyVersionIds: ['p-prod', 'p-prod2', 'p-shadow'] })).toEqual([
        ev.assigned('n-1', { kind: 'ensemble', method: 'majority', members: ENSEMBLE }),
        ...ENSEMBLE.map((m) => ev.requested('n-1', m.jobId, m.proxyVersionId, true, 'Dose within label?')),
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
      expect(refusal(() => decideAssignNode(command, given(...history.decomposed()), proxies, same))).toMatchObject({
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
      expect(refusal(() => decideAssignNode({ nodeId: 'n-2', to: 'proxy', proxyVersionId: 'p-prod' }, state, proxies, reuse))).toMatchObject({
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
