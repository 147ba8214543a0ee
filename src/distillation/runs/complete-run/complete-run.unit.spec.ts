import { describe, expect, it } from '@jest/globals';
import { ARTIFACT, digest, givenRun, PARENT_ID, refusal, RUN_ID, runEv } from '../../distillation.test-kit.js';
import { decideCompleteRun, type CompleteRunCommand } from './complete-run.command.js';

const command = (over: Partial<CompleteRunCommand['metrics']> = {}, artifactSha256 = ARTIFACT): CompleteRunCommand => ({
  runId: RUN_ID,
  artifactSha256,
  metrics: { fidelity: 0.91, groundTruthAgreement: 0.87, drift: null, heldOutQueryIds: ['q-2'], ...over },
});
const stored = { artifact: { sha256: ARTIFACT, sizeBytes: 4096 } };

describe('complete-run', () => {
  describe('given a running run without a parent', () => {
    const state = givenRun(runEv.started());

    it('when completed with a stored artifact, then DistillationRunCompleted with the store’s size and media type onnx', () => {
      expect(decideCompleteRun(command(), state, stored)).toEqual([
        {
          type: 'DistillationRunCompleted',
          schema: 1,
          data: {
            runId: RUN_ID,
            artifact: { sha256: ARTIFACT, sizeBytes: 4096, mediaType: 'application/onnx' },
            metrics: { fidelity: 0.91, groundTruthAgreement: 0.87, drift: null, heldOutQueryIds: ['q-2'] },
          },
        },
      ]);
    });

    it('when completed with a drift anyway, then it is recorded', () => {
      expect(decideCompleteRun(command({ drift: 0.05 }), state, stored)[0].data.metrics.drift).toBe(0.05);
    });

    it('when the artifact is not in the store, then DISTILLATION.ARTIFACT_NOT_FOUND (unprocessable)', () => {
      expect(refusal(() => decideCompleteRun(command(), state, { artifact: null }))).toMatchObject({
        code: 'DISTILLATION.ARTIFACT_NOT_FOUND',
        category: 'unprocessable',
        details: { artifactSha256: ARTIFACT },
      });
    });

    it('when the store answers for another digest, then DISTILLATION.ARTIFACT_NOT_FOUND (never record a size that is not this artifact’s)', () => {
      expect(refusal(() => decideCompleteRun(command({}, digest('c')), state, stored))).toMatchObject({ code: 'DISTILLATION.ARTIFACT_NOT_FOUND' });
    });

    it('when a held-out query is not in the dataset, then DISTILLATION.INVALID_COMMAND', () => {
      expect(refusal(() => decideCompleteRun(command({ heldOutQueryIds: ['q-9'] }), state, stored))).toMatchObject({
        code: 'DISTILLATION.INVALID_COMMAND',
        details: { field: 'metrics.heldOutQueryIds' },
      });
    });

    it.each<[string, Partial<CompleteRunCommand['metrics']>, string]>([
      ['fidelity above 1', { fidelity: 1.01 }, 'metrics.fidelity'],
      ['negative ground-truth agreement', { groundTruthAgreement: -0.1 }, 'metrics.groundTruthAgreement'],
      ['NaN drift', { drift: Number.NaN }, 'metrics.drift'],
      ['a duplicated held-out query', { heldOutQueryIds: ['q-1', 'q-1'] }, 'metrics.heldOutQueryIds'],
    ])('when the metrics have %s, then DISTILLATION.INVALID_COMMAND naming the field', (_, over, field) => {
      expect(refusal(() => decideCompleteRun(command(over), state, stored))).toMatchObject({
        code: 'DISTILLATION.INVALID_COMMAND',
        category: 'unprocessable',
        details: { field },
      });
    });

    it('when the artifact digest is malformed, then DISTILLATION.INVALID_COMMAND', () => {
      expect(refusal(() => decideCompleteRun(command({}, 'sha256:abc'), state, stored))).toMatchObject({
        code: 'DISTILLATION.INVALID_COMMAND',
        details: { field: 'artifactSha256' },
      });
    });
  });

  describe('given a running run with a parent', () => {
    const state = givenRun(runEv.started({ parentProxyVersionId: PARENT_ID }));

    it('when completed without a drift, then DISTILLATION.DRIFT_REQUIRED (drift null only without a parent)', () => {
      expect(refusal(() => decideCompleteRun(command({ drift: null }), state, stored))).toMatchObject({
        code: 'DISTILLATION.DRIFT_REQUIRED',
        category: 'unprocessable',
        details: { parentProxyVersionId: PARENT_ID },
      });
    });

    it('when completed with a drift, then it is recorded', () => {
      expect(decideCompleteRun(command({ drift: 0.1 }), state, stored)[0].data.metrics.drift).toBe(0.1);
    });
  });

  describe('given a run that already ended', () => {
    it('when completed twice, then DISTILLATION.ALREADY_COMPLETED (conflict)', () => {
      expect(refusal(() => decideCompleteRun(command(), givenRun(runEv.started(), runEv.completed()), stored))).toMatchObject({
        code: 'DISTILLATION.ALREADY_COMPLETED',
        category: 'conflict',
      });
    });

    it('when completed after it failed, then DISTILLATION.ALREADY_FAILED (conflict)', () => {
      expect(refusal(() => decideCompleteRun(command(), givenRun(runEv.started(), runEv.failed()), stored))).toMatchObject({
        code: 'DISTILLATION.ALREADY_FAILED',
        category: 'conflict',
      });
    });

    it('when the run ended, that is said before anything about the artifact', () => {
      expect(refusal(() => decideCompleteRun(command(), givenRun(runEv.started(), runEv.completed()), { artifact: null })).code).toBe(
        'DISTILLATION.ALREADY_COMPLETED',
      );
    });
  });

  it('given no run, when completed, then DISTILLATION.NOT_FOUND', () => {
    expect(refusal(() => decideCompleteRun(command(), null, stored))).toMatchObject({ code: 'DISTILLATION.NOT_FOUND', category: 'not_found' });
  });
});
