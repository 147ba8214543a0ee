import { describe, expect, it } from '@jest/globals';
import { initialQueryState } from '../query.state.js';
import { ev, given, history, refusal, ROOT } from '../query.test-kit.js';
import { decideAnswerNode } from './answer-node.command.js';

describe('answer-node', () => {
  describe('given a decomposed root with open leaves', () => {
    const state = given(...history.decomposed());

    it('when a leaf is answered with a confidence, then HumanAnswerRecorded with it', () => {
      expect(decideAnswerNode({ nodeId: 'n-1', answer: 'yes', confidence: 0.9 }, state)).toEqual([
        ev.answered('n-1', 'yes', 0.9),
      ]);
    });

    it('when a leaf is answered without a confidence, then the confidence is recorded as null', () => {
      expect(decideAnswerNode({ nodeId: 'n-1', answer: 'yes' }, state)).toEqual([ev.answered('n-1', 'yes', null)]);
    });

    it('when the confidence is 0 or 1, then it is accepted', () => {
      expect(decideAnswerNode({ nodeId: 'n-1', answer: 'y', confidence: 0 }, state)[0].data.confidence).toBe(0);
      expect(decideAnswerNode({ nodeId: 'n-1', answer: 'y', confidence: 1 }, state)[0].data.confidence).toBe(1);
    });

    it('when the decomposed root is answered, then QUERY.NODE_DECOMPOSED (conflict): compose it instead', () => {
      expect(refusal(() => decideAnswerNode({ nodeId: ROOT, answer: 'safe' }, state))).toMatchObject({
        code: 'QUERY.NODE_DECOMPOSED',
        category: 'conflict',
      });
    });

    it('when the node is unknown, then QUERY.NODE_NOT_FOUND (not_found)', () => {
      expect(refusal(() => decideAnswerNode({ nodeId: 'nope', answer: 'yes' }, state))).toMatchObject({
        code: 'QUERY.NODE_NOT_FOUND',
        category: 'not_found',
      });
    });

    it.each<[string, { answer: string; confidence?: number }, string]>([
      ['a blank answer', { answer: ' \n' }, 'answer'],
      ['a confidence above 1', { answer: 'yes', confidence: 1.5 }, 'confidence'],
      ['a negative confidence', { answer: 'yes', confidence: -0.01 }, 'confidence'],
    ])('when given %s, then QUERY.INVALID_COMMAND', (_, over, field) => {
      expect(refusal(() => decideAnswerNode({ nodeId: 'n-1', ...over }, state))).toMatchObject({
        code: 'QUERY.INVALID_COMMAND',
        details: { field },
      });
    });
  });

  describe('given an undecomposed root', () => {
    it('when the root is answered directly, then HumanAnswerRecorded on the root', () => {
      expect(decideAnswerNode({ nodeId: ROOT, answer: 'safe' }, given(...history.opened()))).toEqual([
        ev.answered(ROOT, 'safe', null),
      ]);
    });
  });

  describe('given an answered node', () => {
    it('when a leaf is answered again, then QUERY.NODE_ALREADY_ANSWERED (conflict): that is an override', () => {
      const state = given(...history.decomposed(), ev.answered('n-1', 'yes'));
      expect(refusal(() => decideAnswerNode({ nodeId: 'n-1', answer: 'no' }, state))).toMatchObject({
        code: 'QUERY.NODE_ALREADY_ANSWERED',
        category: 'conflict',
      });
    });

    it('when a composed root is answered by a human, then QUERY.NODE_ALREADY_ANSWERED', () => {
      expect(refusal(() => decideAnswerNode({ nodeId: ROOT, answer: 'x' }, given(...history.composed())))).toMatchObject({
        code: 'QUERY.NODE_ALREADY_ANSWERED',
      });
    });
  });

  describe('given n-1 with proxy jobs still pending', () => {
    it.each([
      ['a single proxy job', history.proxyPending(), ['j-1']],
      ['ensemble jobs, one already in', [...history.ensemblePending(), ev.inferred('n-1', 'j-2', 'p-prod2', 'yes', 0.9)], ['j-1', 'j-3']],
    ])('when n-1 is answered by a human (%s), then QUERY.NODE_AWAITING_INFERENCE (409) listing them', (_, events, pendingJobIds) => {
      expect(refusal(() => decideAnswerNode({ nodeId: 'n-1', answer: 'yes' }, given(...events)))).toMatchObject({
        code: 'QUERY.NODE_AWAITING_INFERENCE',
        category: 'conflict',
        details: { nodeId: 'n-1', pendingJobIds },
      });
    });
  });

  describe('given n-1 escalated', () => {
    it.each([
      ['for low confidence', history.lowConfidence()],
      ['by hand, while its job was pending (the job is abandoned)', [...history.proxyPending(), ev.escalated('n-1')]],
      ['and reassigned to a human', [...history.lowConfidence(), ev.assigned('n-1', { kind: 'human' })]],
    ])('when an overseer answers it (%s), then HumanAnswerRecorded, which clears the escalation', (_, events) => {
      const answered = decideAnswerNode({ nodeId: 'n-1', answer: 'no', confidence: 0.95 }, given(...events));
      expect(answered).toEqual([ev.answered('n-1', 'no', 0.95)]);
      const after = given(...events, ...answered);
      const n1 = after.status === 'none' ? undefined : after.nodes.get('n-1');
      expect(n1?.escalations[0]).toMatchObject({ resolvedBy: { sub: 'alice', role: 'overseer' } });
      expect(n1?.escalations[0]?.resolvedAt).toEqual(expect.any(String));
    });
  });

  describe('given n-1 assigned to a human', () => {
    it('when an overseer answers it, then HumanAnswerRecorded', () => {
      expect(decideAnswerNode({ nodeId: 'n-1', answer: 'yes' }, given(...history.decomposed(), ev.assigned('n-1', { kind: 'human' })))).toHaveLength(1);
    });
  });

  describe('given n-1 answered by a proxy', () => {
    it('when a human answers it, then QUERY.NODE_ALREADY_ANSWERED: change it with an override', () => {
      expect(refusal(() => decideAnswerNode({ nodeId: 'n-1', answer: 'no' }, given(...history.proxyAnswered()))).code).toBe(
        'QUERY.NODE_ALREADY_ANSWERED',
      );
    });
  });

  describe('given a query in a final or absent state', () => {
    it.each([
      ['no query', () => initialQueryState, 'QUERY.NOT_FOUND', 'not_found'],
      ['a completed query', () => given(...history.completed()), 'QUERY.COMPLETED', 'conflict'],
      ['a stopped query', () => given(...history.stoppedWhileOpen()), 'QUERY.STOPPED', 'conflict'],
    ])('when %s, then %s', (_, state, code, category) => {
      expect(refusal(() => decideAnswerNode({ nodeId: 'n-1', answer: 'yes' }, state()))).toMatchObject({ code, category });
    });
  });
});
