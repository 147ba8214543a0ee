import { describe, expect, it } from '@jest/globals';
import { aggregateMajority } from '../query.ensemble.js';
import { initialQueryState, nodeStatus, type QueryState } from '../query.state.js';
import { ev, given, history, refusal, WORKER_FIELDS } from '../query.test-kit.js';
import {
  decideRecordInferenceResult,
  inferenceOutcome,
  type RecordInferenceResultCommand,
} from './record-inference-result.command.js';

const result = (over: Partial<RecordInferenceResultCommand> = {}): RecordInferenceResultCommand => ({
  nodeId: 'n-1',
  jobId: 'j-1',
  proxyVersionId: 'p-prod',
  answer: 'yes',
  confidence: 0.9,
  worker: WORKER_FIELDS as RecordInferenceResultCommand['worker'],
  ...over,
});
const node = (state: QueryState, id: string) => (state.status === 'none' ? undefined : state.nodes.get(id))!;

describe('record-inference-result', () => {
  describe('given n-1 assigned to p-prod with job j-1 pending (threshold 0.7)', () => {
    const state = given(...history.proxyPending());

    it('when a confident result arrives, then InferenceCompleted only (it answers the node), output null by default', () => {
      const events = decideRecordInferenceResult(result(), state);
      expect(events).toEqual([ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.9, null)]);
      expect(inferenceOutcome(events, false)).toBe('answered');
      expect(nodeStatus(node(given(...history.proxyPending(), ...events), 'n-1'))).toBe('answered');
    });

    it('when the confidence equals the threshold, then it still answers (≥)', () => {
      expect(decideRecordInferenceResult(result({ confidence: 0.7 }), state)).toHaveLength(1);
    });

    it('when the result carries the raw output, then it is recorded as given', () => {
      const output = { logits: [0.1, 0.9], device: 'cuda' };
      expect(decideRecordInferenceResult(result({ output }), state)[0].data.output).toEqual(output);
    });

    it('when a low-confidence result arrives, then InferenceCompleted + EscalatedToHuman {low_confidence, confidence, threshold, jobId}', () => {
      const events = decideRecordInferenceResult(result({ answer: 'maybe', confidence: 0.4 }), state);
      expect(events).toEqual([
        ev.inferred('n-1', 'j-1', 'p-prod', 'maybe', 0.4),
        ev.escalated('n-1', { reason: 'low_confidence', confidence: 0.4, threshold: 0.7, jobId: 'j-1' }),
      ]);
      expect(inferenceOutcome(events, false)).toBe('escalated');
      expect(nodeStatus(node(given(...history.proxyPending(), ...events), 'n-1'))).toBe('escalated');
    });

    it('when the job is unknown on that node, then QUERY.JOB_NOT_FOUND (422)', () => {
      expect(refusal(() => decideRecordInferenceResult(result({ jobId: 'j-ghost' }), state))).toMatchObject({
        code: 'QUERY.JOB_NOT_FOUND',
        category: 'unprocessable',
        details: { nodeId: 'n-1', jobId: 'j-ghost' },
      });
    });

    it("when the job is posted on another node, then QUERY.JOB_NOT_FOUND (a job belongs to its node)", () => {
      expect(refusal(() => decideRecordInferenceResult(result({ nodeId: 'n-2' }), state)).code).toBe('QUERY.JOB_NOT_FOUND');
    });

    it('when the result names another proxy version than the job, then QUERY.JOB_PROXY_MISMATCH (422)', () => {
      expect(refusal(() => decideRecordInferenceResult(result({ proxyVersionId: 'p-prod2' }), state))).toMatchObject({
        code: 'QUERY.JOB_PROXY_MISMATCH',
        category: 'unprocessable',
        details: { jobId: 'j-1', proxyVersionId: 'p-prod2', assignedProxyVersionId: 'p-prod' },
      });
    });

    it('when the node is unknown, then QUERY.NODE_NOT_FOUND', () => {
      expect(refusal(() => decideRecordInferenceResult(result({ nodeId: 'ghost' }), state)).code).toBe('QUERY.NODE_NOT_FOUND');
    });

    it.each<[string, Partial<RecordInferenceResultCommand>, string]>([
      ['a blank answer', { answer: '  ' }, 'answer'],
      ['a confidence above 1', { confidence: 1.01 }, 'confidence'],
      ['a NaN confidence', { confidence: Number.NaN }, 'confidence'],
      ['a non-JSON output', { output: { at: new Date() } as never }, 'output'],
      ['an empty job id', { jobId: '' }, 'jobId'],
      ['an empty proxy version id', { proxyVersionId: '' }, 'proxyVersionId'],
    ])('when given %s, then QUERY.INVALID_COMMAND naming the field', (_, over, field) => {
      expect(refusal(() => decideRecordInferenceResult(result(over), state))).toMatchObject({
        code: 'QUERY.INVALID_COMMAND',
        details: { field },
      });
    });
  });

  describe('given j-1 already completed', () => {
    it.each([
      ['confidently (node answered)', history.proxyAnswered()],
      ['below the threshold (node escalated)', history.lowConfidence()],
    ])('when a second result for j-1 arrives %s, then QUERY.JOB_NOT_PENDING (409)', (_, events) => {
      expect(refusal(() => decideRecordInferenceResult(result(), given(...events)))).toMatchObject({
        code: 'QUERY.JOB_NOT_PENDING',
        category: 'conflict',
        details: { jobId: 'j-1', jobStatus: 'completed' },
      });
    });
  });

  describe('given j-1 abandoned by a manual escalation', () => {
    it('when its result arrives late, then QUERY.JOB_NOT_PENDING naming it abandoned', () => {
      const state = given(...history.proxyPending(), ev.escalated('n-1', { note: 'worker lost' }));
      expect(refusal(() => decideRecordInferenceResult(result(), state))).toMatchObject({
        code: 'QUERY.JOB_NOT_PENDING',
        details: { jobStatus: 'abandoned' },
      });
    });
  });

  describe('given n-1 assigned to an ensemble p-prod (j-1), p-prod2 (j-2), p-shadow (j-3)', () => {
    const member = (jobId: string, proxyVersionId: string, answer: string, confidence: number) =>
      result({ jobId, proxyVersionId, answer, confidence });

    it('when the first and second members answer, then only InferenceCompleted each, even below the threshold', () => {
      const first = decideRecordInferenceResult(member('j-1', 'p-prod', 'yes', 0.2), given(...history.ensemblePending()));
      expect(first).toEqual([ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.2)]);
      expect(inferenceOutcome(first, true)).toBe('awaiting_members');
      const second = decideRecordInferenceResult(member('j-3', 'p-shadow', 'no', 0.9), given(...history.ensemblePending(), ...first));
      expect(second).toEqual([ev.inferred('n-1', 'j-3', 'p-shadow', 'no', 0.9)]);
    });

    /** The ensemble history with another threshold. */
    const pendingAt = (confidenceThreshold: number) => [ev.opened({ confidenceThreshold }), ...history.ensemblePending().slice(1)];
    const twoOfThree = [ev.inferred('n-1', 'j-3', 'p-shadow', 'no', 0.6), ev.inferred('n-1', 'j-1', 'p-prod', 'Yes', 0.9)];
    const members = [
      { jobId: 'j-1', proxyVersionId: 'p-prod', answer: 'Yes', confidence: 0.9 },
      { jobId: 'j-2', proxyVersionId: 'p-prod2', answer: 'yes ', confidence: 1 },
      { jobId: 'j-3', proxyVersionId: 'p-shadow', answer: 'no', confidence: 0.6 },
    ];
    // Majority "yes" (2 of 3, case and spacing folded), text of its earliest member, confidence mean(0.9, 1) × 2/3.
    const aggregate = ((0.9 + 1) / 2) * (2 / 3);

    it('when the last member answers with the majority at threshold 0.6, then InferenceCompleted + EnsembleAnswerAggregated; the node is answered', () => {
      const events = decideRecordInferenceResult(member('j-2', 'p-prod2', 'yes ', 1), given(...pendingAt(0.6), ...twoOfThree));
      expect(events).toEqual([
        ev.inferred('n-1', 'j-2', 'p-prod2', 'yes ', 1),
        { type: 'EnsembleAnswerAggregated', schema: 1, data: { nodeId: 'n-1', method: 'majority', members, answer: 'Yes', confidence: aggregate } },
      ]);
      expect(aggregate).toBeCloseTo(0.6333, 4);
      expect(inferenceOutcome(events, true)).toBe('answered');
      const after = node(given(...pendingAt(0.6), ...twoOfThree, ...events), 'n-1');
      expect(after.answer).toMatchObject({ text: 'Yes', kind: 'ensemble', confidence: aggregate, proxyVersionId: null });
    });

    it('when the same vote falls short of threshold 0.7, then + EscalatedToHuman on the aggregate (jobId null)', () => {
      const events = decideRecordInferenceResult(member('j-2', 'p-prod2', 'yes ', 1), given(...history.ensemblePending(), ...twoOfThree));
      expect(events).toEqual([
        ev.inferred('n-1', 'j-2', 'p-prod2', 'yes ', 1),
        ev.aggregated('n-1', members),
        ev.escalated('n-1', { reason: 'low_confidence', confidence: aggregate, threshold: 0.7, jobId: null }),
      ]);
      expect(inferenceOutcome(events, true)).toBe('escalated');
    });

    it('when all three agree with full confidence, then the aggregate is 1 and answers at 0.7', () => {
      const state = given(
        ...history.ensemblePending(),
        ev.inferred('n-1', 'j-1', 'p-prod', 'no', 1),
        ev.inferred('n-1', 'j-2', 'p-prod2', 'no', 1),
      );
      const events = decideRecordInferenceResult(member('j-3', 'p-shadow', 'NO', 1), state);
      expect(events).toHaveLength(2);
      expect(events[1]!.data).toMatchObject({ answer: 'no', confidence: 1 });
    });

    it('when all three disagree, then the tie goes to the earliest member (in assignment order, not arrival order)', () => {
      const state = given(
        ...pendingAt(0.1),
        ev.inferred('n-1', 'j-3', 'p-shadow', 'c', 0.9),
        ev.inferred('n-1', 'j-2', 'p-prod2', 'b', 0.9),
      );
      const events = decideRecordInferenceResult(member('j-1', 'p-prod', 'a', 0.6), state);
      expect(events[1]!.data).toMatchObject({ answer: 'a', confidence: 0.6 * (1 / 3) });
    });

    it('when a member posts twice, then QUERY.JOB_NOT_PENDING; when it names another member\'s version, QUERY.JOB_PROXY_MISMATCH', () => {
      const state = given(...history.ensemblePending(), ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.9));
      expect(refusal(() => decideRecordInferenceResult(member('j-1', 'p-prod', 'yes', 0.9), state)).code).toBe('QUERY.JOB_NOT_PENDING');
      expect(refusal(() => decideRecordInferenceResult(member('j-2', 'p-prod', 'yes', 0.9), state)).code).toBe('QUERY.JOB_PROXY_MISMATCH');
    });

    it('the recorded aggregate is what aggregateMajority computes (evolve re-checks it)', () => {
      expect(ev.aggregated('n-1', members).data).toMatchObject(aggregateMajority(members));
    });
  });

  describe('given a query in a final or absent state', () => {
    it.each([
      ['no query', () => initialQueryState, 'QUERY.NOT_FOUND', 'not_found'],
      ['a completed query', () => given(...history.completed()), 'QUERY.COMPLETED', 'conflict'],
      ['a stopped query', () => given(...history.proxyPending(), ev.stopped('budget', 'open')), 'QUERY.STOPPED', 'conflict'],
    ])('when %s, then %s', (_, state, code, category) => {
      expect(refusal(() => decideRecordInferenceResult(result(), state()))).toMatchObject({ code, category });
    });
  });
});
