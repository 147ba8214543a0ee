/** Record that a running distillation run failed (training crashed, was abandoned, ...). */
import type { DistillationRunFailed } from '../run.events.js';
import { requireRun, requireRunId, requireRunning, requireRunText } from '../run.guards.js';
import type { RunState } from '../run.state.js';

export const MAX_REASON_LENGTH = 2000;

export interface FailRunCommand {
  runId: string;
  reason: string;
}

export function decideFailRun(command: FailRunCommand, state: RunState | null): [DistillationRunFailed] {
  const runId = requireRunId(command.runId, 'runId');
  const reason = requireRunText(command.reason, 'reason', MAX_REASON_LENGTH);
  requireRunning(requireRun(state, runId));
  return [{ type: 'DistillationRunFailed', schema: 1, data: { runId, reason } }];
}
