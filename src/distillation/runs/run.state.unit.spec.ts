import { describe, expect, it } from '@jest/globals';
import { alice, ARTIFACT, at, givenRun, pipeline, record, refusal, RUN_ID, runEv, TENANT } from '../distillation.test-kit.js';
import { parseRunEvent, RUN_EVENT_TYPES, toProposed } from './run.events.js';
import { rehydrateRun, runView } from './run.state.js';

describe('run events', () => {
  it.each([runEv.started(), runEv.completed({ drift: 0.1, heldOutQueryIds: ['q-1'] }), runEv.failed()])(
    'parse back exactly what was proposed (%#)',
    (event) => {
      expect(parseRunEvent(toProposed(event))).toEqual(event);
    },
  );

  it('keep only the known fields', () => {
    const proposed = toProposed(runEv.failed());
    expect(parseRunEvent({ ...proposed, data: { ...proposed.data, extra: 1 } })).toEqual(runEv.failed());
  });

  it('list every type', () => {
    expect(RUN_EVENT_TYPES).toEqual(['DistillationRunStarted', 'DistillationRunCompleted', 'DistillationRunFailed']);
  });

  it.each<[string, { type: string; schema: number; data: never }]>([
    ['an unknown type', { type: 'DistillationRunPaused', schema: 1, data: {} as never }],
    ['an unknown schema version', { ...toProposed(runEv.failed()), schema: 2 } as never],
    ['a missing field', { type: 'DistillationRunFailed', schema: 1, data: { runId: RUN_ID } as never }],
    ['a bad digest', { ...toProposed(runEv.started({ trainingDigest: 'md5:x' })) } as never],
    ['a bad media type', { type: 'DistillationRunCompleted', schema: 1, data: { ...runEv.completed().data, artifact: { sha256: ARTIFACT, sizeBytes: 1, mediaType: 'text/plain' } } as never }],
    ['a fidelity above 1', { type: 'DistillationRunCompleted', schema: 1, data: { ...runEv.completed().data, metrics: { ...runEv.completed().data.metrics, fidelity: 2 } } as never }],
  ])('refuse %s with DISTILLATION.EVENT_INVALID (internal)', (_, entry) => {
    expect(refusal(() => parseRunEvent(entry))).toMatchObject({ code: 'DISTILLATION.EVENT_INVALID', category: 'internal' });
  });
});

describe('run state', () => {
  it('given nothing, then no run', () => {
    expect(rehydrateRun([])).toBeNull();
  });

  it('given a started run, then running, with who started it and when', () => {
    expect(givenRun(runEv.started())).toMatchObject({
      runId: RUN_ID,
      tenant: TENANT,
      status: 'running',
      startedAt: at(0),
      startedBy: pipeline,
      completion: null,
      failure: null,
      revision: 0,
    });
  });

  it('given a completed run, then completed with artifact and metrics', () => {
    const run = givenRun(runEv.started(), runEv.completed());
    expect(run).toMatchObject({ status: 'completed', completion: { artifact: runEv.completed().data.artifact, at: at(1) }, revision: 1 });
    expect(runView(run!)).toMatchObject({
      status: 'completed',
      artifact: runEv.completed().data.artifact,
      metrics: runEv.completed().data.metrics,
      completedAt: at(1),
      completedBy: pipeline,
      failureReason: null,
      revision: 1,
    });
  });

  it('given a failed run, then failed with the reason', () => {
    const run = givenRun(runEv.started(), { event: runEv.failed('oom'), by: alice });
    expect(runView(run!)).toMatchObject({ status: 'failed', failureReason: 'oom', failedBy: alice, artifact: null });
  });

  it('skips other contexts’ event types on the stream', () => {
    const entries = record([runEv.started()]);
    expect(rehydrateRun([...entries, { ...entries[0]!, type: 'SomethingElse', revision: 1 }])).toMatchObject({ status: 'running', revision: 0 });
  });

  it.each([
    ['a completion before the start', () => givenRun(runEv.completed())],
    ['two starts', () => givenRun(runEv.started(), runEv.started())],
    ['a completion after a failure', () => givenRun(runEv.started(), runEv.failed(), runEv.completed())],
    ['an event of another tenant', () => givenRun(runEv.started(), { event: runEv.failed(), tenant: 'tenant-b' })],
    ['an event of another run', () => givenRun(runEv.started(), { ...runEv.failed(), data: { runId: 'other', reason: 'r' } })],
  ])('refuses %s with DISTILLATION.CORRUPT_STREAM (internal)', (_, load) => {
    expect(refusal(load)).toMatchObject({ code: 'DISTILLATION.CORRUPT_STREAM', category: 'internal' });
  });
});
