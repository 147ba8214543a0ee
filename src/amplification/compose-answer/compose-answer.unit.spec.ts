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
