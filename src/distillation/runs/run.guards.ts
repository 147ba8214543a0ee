/**
 * Refusals of the distillation-run deciders: one place for the stable codes and their HTTP categories. A
 * command is checked in this order: its own values (no state needed), then the run, then the facts the handler
 * loaded (queries, parent proxy, artifact).
 */
import { LedgerError, type ErrorCategory } from '../../common/ledger-error.js';
import { isDigest, isId, isNonBlank, isUnit, MAX_ID_LENGTH } from '../../common/domain-values.js';
import type { RunState } from './run.state.js';

export const RUN_REFUSALS = {
  'DISTILLATION.INVALID_COMMAND': 'unprocessable',
  'DISTILLATION.NOT_FOUND': 'not_found',
  'DISTILLATION.ALREADY_EXISTS': 'conflict',
  'DISTILLATION.EMPTY_DATASET': 'unprocessable',
  'DISTILLATION.DUPLICATE_QUERY': 'unprocessable',
  'DISTILLATION.QUERY_NOT_FOUND': 'unprocessable',
  'DISTILLATION.QUERY_NOT_COMPLETED': 'conflict',
  'DISTILLATION.QUERY_STOPPED': 'conflict',
  'DISTILLATION.PARENT_NOT_FOUND': 'unprocessable',
  'DISTILLATION.ARTIFACT_NOT_FOUND': 'unprocessable',
  'DISTILLATION.DRIFT_REQUIRED': 'unprocessable',
  'DISTILLATION.ALREADY_COMPLETED': 'conflict',
  'DISTILLATION.ALREADY_FAILED': 'conflict',
} as const satisfies Record<string, ErrorCategory>;

export type RunRefusalCode = keyof typeof RUN_REFUSALS;

export function refuseRun(code: RunRefusalCode, message: string, details: Record<string, unknown> = {}): LedgerError {
  return new LedgerError(code, RUN_REFUSALS[code], message, details);
}

export function invalidRun(field: string, message: string): LedgerError {
  return refuseRun('DISTILLATION.INVALID_COMMAND', `${field}: ${message}`, { field });
}

export function runNotFound(runId: string): LedgerError {
  return refuseRun('DISTILLATION.NOT_FOUND', 'Distillation run not found', { runId });
}

export function requireRun(state: RunState | null, runId: string): RunState {
  if (state === null) throw runNotFound(runId);
  return state;
}

/** A run completes or fails once. */
export function requireRunning(run: RunState): RunState {
  switch (run.status) {
    case 'running':
      return run;
    case 'completed':
      throw refuseRun('DISTILLATION.ALREADY_COMPLETED', `Distillation run ${run.runId} is already completed`, { runId: run.runId });
    case 'failed':
      throw refuseRun('DISTILLATION.ALREADY_FAILED', `Distillation run ${run.runId} has already failed`, { runId: run.runId });
    default: {
      const unreachable: never = run.status;
      return unreachable;
    }
  }
}

export function requireRunId(value: unknown, field: string): string {
  if (!isId(value)) throw invalidRun(field, `must be a string of 1..${MAX_ID_LENGTH} characters`);
  return value;
}

export function requireRunDigest(value: unknown, field: string): string {
  if (!isDigest(value)) throw invalidRun(field, 'must be "sha256:" followed by 64 lowercase hex characters');
  return value;
}

export function requireRunText(value: unknown, field: string, maxLength: number): string {
  if (!isNonBlank(value)) throw invalidRun(field, 'must be a non-blank string');
  if (value.length > maxLength) throw invalidRun(field, `must be at most ${maxLength} characters`);
  return value;
}

export function requireRunUnit(value: unknown, field: string): number {
  if (!isUnit(value)) throw invalidRun(field, 'must be a number between 0 and 1');
  return value;
}
