import { describe, expect, it } from '@jest/globals';
import { givenRun, refusal, RUN_ID, runEv } from '../../distillation.test-kit.js';
import { decideFailRun, MAX_REASON_LENGTH } from './fail-run.command.js';

describe('fail-run', () => {
  it('given a running run, when failed with a reason, then DistillationRunFailed with it', () => {
    expect(decideFailRun({ runId: RUN_ID, reason: 'loss diverged' }, givenRun(runEv.started()))).toEqual([
      { type: 'DistillationRunFailed', schema: 1, data: { runId: RUN_ID, reason: 'loss diverged' } },
    ]);
  });

  it.each([
    ['a blank reason', '  '],
    ['a reason over the limit', 'x'.repeat(MAX_REASON_LENGTH + 1)],
  ])('given a running run, when failed with %s, then DISTILLATION.INVALID_COMMAND', (_, reason) => {
    expect(refusal(() => decideFailRun({ runId: RUN_ID, reason }, givenRun(runEv.started())))).toMatchObject({
      code: 'DISTILLATION.INVALID_COMMAND',
      details: { field: 'reason' },
    });
  });

  it.each([
    ['after it completed', () => givenRun(runEv.started(), runEv.completed()), 'DISTILLATION.ALREADY_COMPLETED'],
    ['twice', () => givenRun(runEv.started(), runEv.failed()), 'DISTILLATION.ALREADY_FAILED'],
    ['without a run', () => null, 'DISTILLATION.NOT_FOUND'],
  ])('when failed %s, then %s', (_, state, code) => {
    expect(refusal(() => decideFailRun({ runId: RUN_ID, reason: 'r' }, state()))).toMatchObject({ code });
  });
});
