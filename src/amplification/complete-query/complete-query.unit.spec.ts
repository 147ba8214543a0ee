import { describe, expect, it } from '@jest/globals';
import { initialQueryState } from '../query.state.js';
import { ev, given, history, refusal, ROOT } from '../query.test-kit.js';
import { decideCompleteQuery } from './complete-query.command.js';

describe('complete-query', () => {
  describe('given a composed root', () => {
    it('when completed, then QueryCompleted with the root answer', () => {
      expect(decideCompleteQuery({}, given(...history.composed()))).toEqual([ev.completed('safe')]);
    });
  });

  describe('given a root whose answer was overridden', () => {
    it("when completed, then QueryCompleted carries the override (the root's current answer)", () => {
      const state = given(...history.composed(), ev.overridden(ROOT, 'unsafe', 'interaction found', 'safe'));
      expect(decideCompleteQuery({}, state)).toEqual([ev.completed('unsafe')]);
    });
  });

  describe('given a single-node query answered directly by a human', () => {
    it('when completed, then QueryCompleted with that answer', () => {
      expect(decideCompleteQuery({}, given(ev.opened(), ev.answered(ROOT, 'safe', 0.8)))).toEqual([ev.completed('safe')]);
    });
  });

  describe('given an unanswered root', () => {
    it.each([
      ['freshly opened', () => given(...history.opened())],
      ['decomposed but not composed', () => given(...history.decomposed())],
      ['with every child answered but not composed', () => given(...history.decomposed(), ev.answered('n-1', 'y'), ev.answered('n-2', 'n'))],
    ])('when the query is %s and completed, then QUERY.ROOT_NOT_ANSWERED (conflict)', (_, state) => {
      expect(refusal(() => decideCompleteQuery({}, state()))).toMatchObject({
        code: 'QUERY.ROOT_NOT_ANSWERED',
        category: 'conflict',
        details: { rootNodeId: ROOT },
      });
    });
  });

  describe('given a query in a final or absent state', () => {
    it.each([
      ['no query', () => initialQueryState, 'QUERY.NOT_FOUND', 'not_found'],
      ['a completed query', () => given(...history.completed()), 'QUERY.COMPLETED', 'conflict'],
      ['a stopped query', () => given(...history.stoppedWhileOpen()), 'QUERY.STOPPED', 'conflict'],
      ['a query stopped after completion', () => given(...history.stoppedAfterCompletion()), 'QUERY.STOPPED', 'conflict'],
    ])('when %s, then %s', (_, state, code, category) => {
      expect(refusal(() => decideCompleteQuery({}, state()))).toMatchObject({ code, category });
    });
  });
});
