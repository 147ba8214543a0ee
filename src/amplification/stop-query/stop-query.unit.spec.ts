import { describe, expect, it } from '@jest/globals';
import { decideAnswerNode } from '../answer-node/answer-node.command.js';
import { decideCompleteQuery } from '../complete-query/complete-query.command.js';
import { decideComposeAnswer } from '../compose-answer/compose-answer.command.js';
import { decideDecomposeNode } from '../decompose-node/decompose-node.command.js';
import { decideOverrideAnswer } from '../override-answer/override-answer.command.js';
import { initialQueryState, type QueryState } from '../query.state.js';
import { ev, given, history, refusal, ROOT, sequentialIds } from '../query.test-kit.js';
import { decideStopQuery } from './stop-query.command.js';

describe('stop-query', () => {
  describe('given an open query', () => {
    it('when stopped, then QueryStopped with previousStatus open', () => {
      expect(decideStopQuery({ reason: 'budget exhausted' }, given(...history.decomposed()))).toEqual([
        ev.stopped('budget exhausted', 'open'),
      ]);
    });

    it.each([
      ['blank', ' \t'],
      ['empty', ''],
      ['missing', undefined as unknown as string],
    ])('when the reason is %s, then QUERY.REASON_REQUIRED (unprocessable)', (_, reason) => {
      expect(refusal(() => decideStopQuery({ reason }, given(...history.opened())))).toMatchObject({
        code: 'QUERY.REASON_REQUIRED',
        category: 'unprocessable',
      });
    });
  });

  describe('given a completed query', () => {
    it('when stopped, then QueryStopped with previousStatus completed', () => {
      expect(decideStopQuery({ reason: 'withdrawn' }, given(...history.completed()))).toEqual([
        ev.stopped('withdrawn', 'completed'),
      ]);
    });
  });

  describe('given no query', () => {
    it('when stopped, then QUERY.NOT_FOUND (not_found)', () => {
      expect(refusal(() => decideStopQuery({ reason: 'x' }, initialQueryState))).toMatchObject({
        code: 'QUERY.NOT_FOUND',
        category: 'not_found',
      });
    });
  });

  describe.each([
    ['stopped while open', history.stoppedWhileOpen],
    ['stopped after completion', history.stoppedAfterCompletion],
  ])('given a query %s', (_, events) => {
    const state: QueryState = given(...events());

    it('when stopped again, then QUERY.STOPPED (conflict)', () => {
      expect(refusal(() => decideStopQuery({ reason: 'again' }, state))).toMatchObject({
        code: 'QUERY.STOPPED',
        category: 'conflict',
      });
    });

    // Valid commands that an open query would accept (or refuse for another reason): the stop wins.
    it.each<[string, () => unknown]>([
      ['decompose', () => decideDecomposeNode({ nodeId: 'n-1', subquestions: ['A?'] }, state, sequentialIds())],
      ['answer', () => decideAnswerNode({ nodeId: 'n-1', answer: 'yes' }, state)],
      ['compose', () => decideComposeAnswer({ nodeId: ROOT, answer: 'safe' }, state)],
      ['override', () => decideOverrideAnswer({ nodeId: ROOT, answer: 'other', rationale: 'why' }, state)],
      ['complete', () => decideCompleteQuery({}, state)],
      ['stop', () => decideStopQuery({ reason: 'again' }, state)],
      ['act on an unknown node', () => decideAnswerNode({ nodeId: 'nope', answer: 'yes' }, state)],
    ])('when asked to %s, then QUERY.STOPPED', (_, when) => {
      expect(refusal(when)).toMatchObject({ code: 'QUERY.STOPPED', category: 'conflict' });
    });
  });
});
