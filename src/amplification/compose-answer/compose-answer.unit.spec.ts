import { describe, expect, it } from '@jest/globals';
import { initialQueryState } from '../query.state.js';
import { ev, given, history, refusal, ROOT } from '../query.test-kit.js';
import { decideComposeAnswer } from './compose-answer.command.js';

describe('compose-answer', () => {
  describe('given a decomposed root whose children are all answered', () => {
    const state = given(...history.decomposed(), ev.answered('n-1', 'yes'), ev.answered('n-2', 'none'));

    it('when the root is composed, then AnswerComposed', () => {
      expect(decideComposeAnswer({ nodeId: ROOT, answer: 'safe' }, state)).toEqual([ev.composed(ROOT, 'safe')]);
    });

    it('when the answer is blank, then QUERY.INVALID_COMMAND', () => {
      expect(refusal(() => decideComposeAnswer({ nodeId: ROOT, answer: '' }, state))).toMatchObject({
        code: 'QUERY.INVALID_COMMAND',
      });
    });
  });

  describe('given a child that was itself composed (two levels)', () => {
    it('when the root is composed, then the composed child counts as answered', () => {
      const state = given(
        ...history.decomposed(),
        ev.delegated('n-1', { 'n-1a': 'A?' }),
        ev.answered('n-1a', 'a'),
        ev.composed('n-1', 'yes'),
        ev.answered('n-2', 'none'),
      );
      expect(decideComposeAnswer({ nodeId: ROOT, answer: 'safe' }, state)).toEqual([ev.composed(ROOT, 'safe')]);
    });
  });

  describe('given a child answered and then overridden', () => {
    it('when the root is composed, then it is allowed', () => {
      const state = given(
        ...history.decomposed(),
        ev.answered('n-1', 'yes'),
        ev.overridden('n-1', 'no', 'label changed', 'yes'),
        ev.answered('n-2', 'none'),
      );
      expect(decideComposeAnswer({ nodeId: ROOT, answer: 'unsafe' }, state)).toHaveLength(1);
    });
  });

  describe('given a decomposed root with unanswered children', () => {
    it('when none is answered, then QUERY.CHILDREN_UNANSWERED listing both, in order', () => {
      expect(refusal(() => decideComposeAnswer({ nodeId: ROOT, answer: 'x' }, given(...history.decomposed())))).toMatchObject(
        { code: 'QUERY.CHILDREN_UNANSWERED', category: 'conflict', details: { nodeId: ROOT, unansweredChildIds: ['n-1', 'n-2'] } },
      );
    });

    it('when one is answered, then the details list only the other', () => {
      const state = given(...history.decomposed(), ev.answered('n-1', 'yes'));
      expect(refusal(() => decideComposeAnswer({ nodeId: ROOT, answer: 'x' }, state)).details).toEqual({
        nodeId: ROOT,
        unansweredChildIds: ['n-2'],
      });
    });

    it('when a child is only decomposed, not composed, then it counts as unanswered', () => {
      const state = given(...history.decomposed(), ev.answered('n-1', 'yes'), ev.delegated('n-2', { 'n-2a': 'A?' }));
      expect(refusal(() => decideComposeAnswer({ nodeId: ROOT, answer: 'x' }, state)).details).toMatchObject({
        unansweredChildIds: ['n-2'],
      });
    });
  });

  describe('given a child escalated to a human', () => {
    it.each([
      ['for low confidence', [...history.lowConfidence(), ev.answered('n-2', 'none')]],
      ['by hand', [...history.decomposed(), ev.answered('n-2', 'none'), ev.escalated('n-1')]],
      ['and reassigned to a human', [...history.lowConfidence(), ev.assigned('n-1', { kind: 'human' })]],
    ])('when the root is composed (child escalated %s), then QUERY.CHILD_ESCALATED (409) naming it', (_, events) => {
      expect(refusal(() => decideComposeAnswer({ nodeId: ROOT, answer: 'x' }, given(...events)))).toMatchObject({
        code: 'QUERY.CHILD_ESCALATED',
        category: 'conflict',
        details: { nodeId: ROOT, escalatedChildIds: ['n-1'] },
      });
    });

    it('when the overseer has answered the escalated child, then composing is allowed', () => {
      const state = given(...history.lowConfidence(), ev.answered('n-1', 'no'), ev.answered('n-2', 'none'));
      expect(decideComposeAnswer({ nodeId: ROOT, answer: 'unsafe' }, state)).toEqual([ev.composed(ROOT, 'unsafe')]);
    });
  });

  describe('given children answered by a proxy and by an ensemble', () => {
    it('when the root is composed, then allowed', () => {
      const state = given(
        ev.opened({ confidenceThreshold: 0.6 }),
        ...history.ensemblePending().slice(1),
        ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.9),
        ev.inferred('n-1', 'j-2', 'p-prod2', 'yes', 0.9),
        ev.inferred('n-1', 'j-3', 'p-shadow', 'no', 0.9),
        ev.aggregated('n-1', [
          { jobId: 'j-1', proxyVersionId: 'p-prod', answer: 'yes', confidence: 0.9 },
          { jobId: 'j-2', proxyVersionId: 'p-prod2', answer: 'yes', confidence: 0.9 },
          { jobId: 'j-3', proxyVersionId: 'p-shadow', answer: 'no', confidence: 0.9 },
        ]),
        ev.assigned('n-2', { kind: 'proxy', proxyVersionId: 'p-prod', jobId: 'j-4' }),
        ev.requested('n-2', 'j-4', 'p-prod'),
        ev.inferred('n-2', 'j-4', 'p-prod', 'none', 0.8),
      );
      expect(decideComposeAnswer({ nodeId: ROOT, answer: 'safe' }, state)).toEqual([ev.composed(ROOT, 'safe')]);
    });
  });

  describe('given a child whose proxy job is pending', () => {
    it('when the root is composed, then QUERY.CHILDREN_UNANSWERED', () => {
      const state = given(...history.proxyPending(), ev.answered('n-2', 'none'));
      expect(refusal(() => decideComposeAnswer({ nodeId: ROOT, answer: 'x' }, state)).details).toEqual({
        nodeId: ROOT,
        unansweredChildIds: ['n-1'],
      });
    });
  });

  describe('given a leaf', () => {
    it('when an open leaf is composed, then QUERY.NODE_NOT_DECOMPOSED (conflict)', () => {
      expect(refusal(() => decideComposeAnswer({ nodeId: 'n-1', answer: 'x' }, given(...history.decomposed())))).toMatchObject(
        { code: 'QUERY.NODE_NOT_DECOMPOSED', category: 'conflict' },
      );
    });
  });

  describe('given a root already composed', () => {
    it('when composed again, then QUERY.NODE_ALREADY_ANSWERED (conflict)', () => {
      expect(refusal(() => decideComposeAnswer({ nodeId: ROOT, answer: 'x' }, given(...history.composed())))).toMatchObject({
        code: 'QUERY.NODE_ALREADY_ANSWERED',
        category: 'conflict',
      });
    });
  });

  describe('given an open query', () => {
    it('when the node is unknown, then QUERY.NODE_NOT_FOUND (not_found)', () => {
      expect(refusal(() => decideComposeAnswer({ nodeId: 'nope', answer: 'x' }, given(...history.decomposed())))).toMatchObject(
        { code: 'QUERY.NODE_NOT_FOUND', category: 'not_found' },
      );
    });
  });

  describe('given a query in a final or absent state', () => {
    it.each([
      ['no query', () => initialQueryState, 'QUERY.NOT_FOUND', 'not_found'],
      ['a completed query', () => given(...history.completed()), 'QUERY.COMPLETED', 'conflict'],
      ['a stopped query', () => given(...history.stoppedWhileOpen()), 'QUERY.STOPPED', 'conflict'],
    ])('when %s, then %s', (_, state, code, category) => {
      expect(refusal(() => decideComposeAnswer({ nodeId: ROOT, answer: 'x' }, state()))).toMatchObject({ code, category });
    });
  });
});
