import { describe, expect, it } from '@jest/globals';
import { initialQueryState } from '../query.state.js';
import { ev, given, history, refusal, ROOT } from '../query.test-kit.js';
import { decideEscalateNode, MAX_NOTE_LENGTH } from './escalate-node.command.js';

describe('escalate-node', () => {
  describe('given a decomposed root with open leaves', () => {
    const state = given(...history.decomposed());

    it('when an open leaf is escalated with a note, then EscalatedToHuman {requested, note}', () => {
      expect(decideEscalateNode({ nodeId: 'n-1', note: 'needs a pharmacist' }, state)).toEqual([
        ev.escalated('n-1', { reason: 'requested', note: 'needs a pharmacist' }),
      ]);
    });

    it('when escalated without a note, then the note is null and no confidence or threshold is claimed', () => {
      expect(decideEscalateNode({ nodeId: 'n-1' }, state)[0].data).toEqual({
        nodeId: 'n-1',
        reason: 'requested',
        confidence: null,
        threshold: null,
        jobId: null,
        note: null,
      });
    });

    it('when the decomposed root is escalated, then QUERY.NODE_DECOMPOSED (conflict)', () => {
      expect(refusal(() => decideEscalateNode({ nodeId: ROOT }, state))).toMatchObject({ code: 'QUERY.NODE_DECOMPOSED', category: 'conflict' });
    });

    it('when the node is unknown, then QUERY.NODE_NOT_FOUND', () => {
      expect(refusal(() => decideEscalateNode({ nodeId: 'ghost' }, state)).code).toBe('QUERY.NODE_NOT_FOUND');
    });

    it.each([
      ['a blank note', ' '],
      ['a note over 4000 characters', 'x'.repeat(MAX_NOTE_LENGTH + 1)],
    ])('when given %s, then QUERY.INVALID_COMMAND', (_, note) => {
      expect(refusal(() => decideEscalateNode({ nodeId: 'n-1', note }, state))).toMatchObject({
        code: 'QUERY.INVALID_COMMAND',
        details: { field: 'note' },
      });
    });
  });

  describe('given n-1 assigned to a proxy with a pending job', () => {
    it('when n-1 is escalated, then allowed (the job is abandoned by evolve)', () => {
      const events = decideEscalateNode({ nodeId: 'n-1', note: 'worker lost' }, given(...history.proxyPending()));
      expect(events).toEqual([ev.escalated('n-1', { note: 'worker lost' })]);
      const after = given(...history.proxyPending(), ...events);
      expect(after.status !== 'none' && after.nodes.get('n-1')!.jobs[0]).toMatchObject({ jobId: 'j-1', status: 'abandoned' });
    });
  });

  describe('given n-1 assigned to a human', () => {
    it('when n-1 is escalated, then allowed', () => {
      expect(decideEscalateNode({ nodeId: 'n-1' }, given(...history.decomposed(), ev.assigned('n-1', { kind: 'human' })))).toHaveLength(1);
    });
  });

  describe('given n-1 already escalated', () => {
    it.each([
      ['for low confidence', history.lowConfidence()],
      ['by hand', [...history.decomposed(), ev.escalated('n-1')]],
    ])('when escalated again (%s), then QUERY.NODE_ALREADY_ESCALATED (409)', (_, events) => {
      expect(refusal(() => decideEscalateNode({ nodeId: 'n-1' }, given(...events)))).toMatchObject({
        code: 'QUERY.NODE_ALREADY_ESCALATED',
        category: 'conflict',
        details: { nodeId: 'n-1' },
      });
    });
  });

  describe('given answered leaves', () => {
    it.each([
      ['by a proxy', history.proxyAnswered()],
      ['by a human after an escalation', [...history.lowConfidence(), ev.answered('n-1', 'no')]],
    ])('when a leaf answered %s is escalated, then QUERY.NODE_ALREADY_ANSWERED', (_, events) => {
      expect(refusal(() => decideEscalateNode({ nodeId: 'n-1' }, given(...events))).code).toBe('QUERY.NODE_ALREADY_ANSWERED');
    });
  });

  describe('given a query in a final or absent state', () => {
    it.each([
      ['no query', () => initialQueryState, 'QUERY.NOT_FOUND', 'not_found'],
      ['a completed query', () => given(...history.completed()), 'QUERY.COMPLETED', 'conflict'],
      ['a stopped query', () => given(...history.stoppedWhileOpen()), 'QUERY.STOPPED', 'conflict'],
    ])('when %s, then %s', (_, state, code, category) => {
      expect(refusal(() => decideEscalateNode({ nodeId: 'n-1' }, state()))).toMatchObject({ code, category });
    });
  });
});
