import { describe, expect, it } from '@jest/globals';
import { initialQueryState } from '../query.state.js';
import { ev, given, history, refusal, ROOT } from '../query.test-kit.js';
import { decideOverrideAnswer, type OverrideAnswerCommand } from './override-answer.command.js';

const cmd = (over: Partial<OverrideAnswerCommand> = {}): OverrideAnswerCommand => ({
  nodeId: 'n-1',
  answer: 'no',
  rationale: 'the label was revised in 2025',
  ...over,
});

describe('override-answer', () => {
  describe('given a leaf answered by a human', () => {
    const state = given(...history.decomposed(), ev.answered('n-1', 'yes', 0.9));

    it('when overridden, then HumanOverrideRecorded with the current answer as previousAnswer', () => {
      expect(decideOverrideAnswer(cmd(), state)).toEqual([
        ev.overridden('n-1', 'no', 'the label was revised in 2025', 'yes'),
      ]);
    });

    it('when the override equals the current answer, then QUERY.OVERRIDE_UNCHANGED (unprocessable)', () => {
      expect(refusal(() => decideOverrideAnswer(cmd({ answer: 'yes' }), state))).toMatchObject({
        code: 'QUERY.OVERRIDE_UNCHANGED',
        category: 'unprocessable',
      });
    });

    it.each([
      ['blank', '   '],
      ['empty', ''],
      ['missing', undefined as unknown as string],
    ])('when the rationale is %s, then QUERY.RATIONALE_REQUIRED (unprocessable)', (_, rationale) => {
      expect(refusal(() => decideOverrideAnswer(cmd({ rationale }), state))).toMatchObject({
        code: 'QUERY.RATIONALE_REQUIRED',
        category: 'unprocessable',
      });
    });

    it('when the new answer is blank, then QUERY.INVALID_COMMAND', () => {
      expect(refusal(() => decideOverrideAnswer(cmd({ answer: ' ' }), state))).toMatchObject({
        code: 'QUERY.INVALID_COMMAND',
        details: { field: 'answer' },
      });
    });

    it('when the node is unknown, then QUERY.NODE_NOT_FOUND (not_found)', () => {
      expect(refusal(() => decideOverrideAnswer(cmd({ nodeId: 'nope' }), state))).toMatchObject({
        code: 'QUERY.NODE_NOT_FOUND',
        category: 'not_found',
      });
    });
  });

  describe('given a leaf already overridden once', () => {
    const state = given(
      ...history.decomposed(),
      ev.answered('n-1', 'yes'),
      ev.overridden('n-1', 'no', 'label revised', 'yes'),
    );

    it('when overridden again, then previousAnswer is the first override, not the original', () => {
      expect(decideOverrideAnswer(cmd({ answer: 'only with food', rationale: 'pharmacist note' }), state)).toEqual([
        ev.overridden('n-1', 'only with food', 'pharmacist note', 'no'),
      ]);
    });

    it('when the override restores the original answer, then it is allowed (it differs from the current one)', () => {
      expect(decideOverrideAnswer(cmd({ answer: 'yes', rationale: 'revision retracted' }), state)[0].data).toMatchObject({
        answer: 'yes',
        previousAnswer: 'no',
      });
    });

    it('when the override equals the current (overridden) answer, then QUERY.OVERRIDE_UNCHANGED', () => {
      expect(refusal(() => decideOverrideAnswer(cmd({ answer: 'no' }), state))).toMatchObject({
        code: 'QUERY.OVERRIDE_UNCHANGED',
      });
    });
  });

  describe('given a composed root', () => {
    it('when the composed answer is overridden, then it is allowed', () => {
      expect(decideOverrideAnswer(cmd({ nodeId: ROOT, answer: 'unsafe' }), given(...history.composed()))).toEqual([
        ev.overridden(ROOT, 'unsafe', 'the label was revised in 2025', 'safe'),
      ]);
    });
  });

  describe('given machine answers', () => {
    it('when a proxy answer is overridden, then HumanOverrideRecorded with the proxy answer as previousAnswer; the original is kept', () => {
      const events = decideOverrideAnswer(cmd({ answer: 'no' }), given(...history.proxyAnswered()));
      expect(events).toEqual([ev.overridden('n-1', 'no', 'the label was revised in 2025', 'yes')]);
      const after = given(...history.proxyAnswered(), ...events);
      const n1 = after.status === 'none' ? undefined : after.nodes.get('n-1');
      expect(n1?.answer).toMatchObject({ text: 'yes', kind: 'proxy', proxyVersionId: 'p-prod', jobId: 'j-1' });
      expect(n1?.overrides).toHaveLength(1);
    });

    it('when an ensemble answer is overridden, then allowed', () => {
      const members = [
        { jobId: 'j-1', proxyVersionId: 'p-prod', answer: 'yes', confidence: 1 },
        { jobId: 'j-2', proxyVersionId: 'p-prod2', answer: 'yes', confidence: 1 },
        { jobId: 'j-3', proxyVersionId: 'p-shadow', answer: 'yes', confidence: 1 },
      ];
      const state = given(
        ...history.ensemblePending(),
        ...members.map((m) => ev.inferred('n-1', m.jobId, m.proxyVersionId, m.answer, m.confidence)),
        ev.aggregated('n-1', members),
      );
      expect(decideOverrideAnswer(cmd({ answer: 'no' }), state)).toEqual([ev.overridden('n-1', 'no', 'the label was revised in 2025', 'yes')]);
    });

    it('when the answer a human gave after an escalation is overridden, then allowed', () => {
      const state = given(...history.lowConfidence(), ev.answered('n-1', 'yes'));
      expect(decideOverrideAnswer(cmd({ answer: 'no' }), state)).toHaveLength(1);
    });

    it.each([
      ['with a pending job', history.proxyPending()],
      ['escalated, not yet answered by a human', history.lowConfidence()],
    ])('when a node %s is overridden, then QUERY.NODE_NOT_ANSWERED: a low-confidence result is not an answer', (_, events) => {
      expect(refusal(() => decideOverrideAnswer(cmd(), given(...events))).code).toBe('QUERY.NODE_NOT_ANSWERED');
    });
  });

  describe('given a completed query', () => {
    it('when any answer is overridden, then it is allowed (a delivered answer can be corrected)', () => {
      expect(decideOverrideAnswer(cmd({ nodeId: ROOT, answer: 'unsafe' }), given(...history.completed()))).toEqual([
        ev.overridden(ROOT, 'unsafe', 'the label was revised in 2025', 'safe'),
      ]);
      expect(decideOverrideAnswer(cmd({ nodeId: 'n-2', answer: 'warfarin' }), given(...history.completed()))).toHaveLength(1);
    });
  });

  describe('given nodes without an answer', () => {
    it.each([
      ['an open leaf', 'n-1'],
      ['a decomposed, uncomposed root', ROOT],
    ])('when %s is overridden, then QUERY.NODE_NOT_ANSWERED (conflict)', (_, nodeId) => {
      expect(refusal(() => decideOverrideAnswer(cmd({ nodeId }), given(...history.decomposed())))).toMatchObject({
        code: 'QUERY.NODE_NOT_ANSWERED',
        category: 'conflict',
        details: { nodeId },
      });
    });
  });

  describe('given a stopped or absent query', () => {
    it.each([
      ['no query', () => initialQueryState, 'QUERY.NOT_FOUND', 'not_found'],
      ['a query stopped while open', () => given(...history.stoppedWhileOpen()), 'QUERY.STOPPED', 'conflict'],
      ['a query stopped after completion', () => given(...history.stoppedAfterCompletion()), 'QUERY.STOPPED', 'conflict'],
    ])('when %s, then %s', (_, state, code, category) => {
      expect(refusal(() => decideOverrideAnswer(cmd({ nodeId: ROOT, answer: 'unsafe' }), state()))).toMatchObject({
        code,
        category,
      });
    });
  });
});
