import { describe, expect, it } from '@jest/globals';
import { alice, ARTIFACT, bob, completedQuery, refusal, transcript, type TranscriptGiven } from '../distillation.test-kit.js';
import { deriveTeacher } from './run.teacher.js';

const opened = (threshold = 0.7): TranscriptGiven => {
  const [open] = completedQuery('q');
  return { ...open!, data: { ...open!.data, confidenceThreshold: threshold } };
};
const requested = (jobId: string, proxyVersionId: string, ensemble = false): TranscriptGiven => ({
  type: 'InferenceRequested',
  data: { jobId, nodeId: 'n-1', proxyVersionId, artifactSha256: ARTIFACT, question: 'q', ensemble },
});
const completed = (jobId: string, proxyVersionId: string, confidence: number): TranscriptGiven => ({
  type: 'InferenceCompleted',
  data: { jobId, nodeId: 'n-1', proxyVersionId, answer: 'a', confidence, output: null },
});
const entries = (...events: TranscriptGiven[]) => transcript('q', events).map((e) => e.entry);

describe('deriveTeacher', () => {
  it('given human answers and overrides, then the sorted distinct subjects of their authors', () => {
    const teacher = deriveTeacher([
      entries(
        opened(),
        { type: 'HumanAnswerRecorded', data: { nodeId: 'n-1', answer: 'x', confidence: null }, by: bob },
        { type: 'HumanAnswerRecorded', data: { nodeId: 'n-2', answer: 'y', confidence: null }, by: alice },
      ),
      entries(opened(), { type: 'HumanOverrideRecorded', data: { nodeId: 'n-1', answer: 'z', rationale: 'r', previousAnswer: 'x' }, by: bob }),
    ]);
    expect(teacher).toEqual({ proxyVersionIds: [], humanPool: ['alice', 'bob'] });
  });

  it('given a single proxy at or above the threshold, then it taught; below it (escalated), it did not', () => {
    const teacher = deriveTeacher([
      entries(opened(0.7), requested('j-1', 'p-at'), completed('j-1', 'p-at', 0.7), requested('j-2', 'p-below'), completed('j-2', 'p-below', 0.69)),
    ]);
    expect(teacher.proxyVersionIds).toEqual(['p-at']);
  });

  it('given an ensemble whose aggregate answered, then every member taught; whose aggregate was escalated, none', () => {
    const members = (ids: string[]) => ids.map((id, i) => ({ jobId: `${id}-j`, proxyVersionId: id, answer: 'a', confidence: 0.9 - i * 0.1 }));
    const aggregated = (ids: string[], confidence: number): TranscriptGiven => ({
      type: 'EnsembleAnswerAggregated',
      data: { nodeId: 'n-1', method: 'majority', members: members(ids), answer: 'a', confidence },
    });
    const teacher = deriveTeacher([
      entries(
        opened(0.7),
        requested('e-2-j', 'e-2', true),
        requested('e-1-j', 'e-1', true),
        // Members' own results never count on their own, whatever their confidence.
        completed('e-2-j', 'e-2', 0.99),
        completed('e-1-j', 'e-1', 0.99),
        aggregated(['e-2', 'e-1'], 0.8),
      ),
      entries(opened(0.7), requested('x-j', 'x', true), requested('y-j', 'y', true), completed('x-j', 'x', 0.9), aggregated(['x', 'y'], 0.5)),
    ]);
    expect(teacher.proxyVersionIds).toEqual(['e-1', 'e-2']);
  });

  it('given no inference at all, then no proxy taught (iteration 0: purely human)', () => {
    expect(deriveTeacher([entries(opened(), { type: 'HumanAnswerRecorded', data: { nodeId: 'root', answer: 'x', confidence: 1 }, by: alice })])).toEqual({
      proxyVersionIds: [],
      humanPool: ['alice'],
    });
  });

  it('given a malformed inference event, then DISTILLATION.TRANSCRIPT_INVALID (internal)', () => {
    expect(refusal(() => deriveTeacher([entries(opened(), { type: 'InferenceCompleted', data: { jobId: 'j', confidence: 'high' } })]))).toMatchObject({
      code: 'DISTILLATION.TRANSCRIPT_INVALID',
      category: 'internal',
    });
  });
});
