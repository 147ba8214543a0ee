/**
 * @jest-environment ./src/inference/onnx/ort-jest-environment.cjs
 */
import { describe, expect, it } from '@jest/globals';
import { measureGateOverhead, type GateFigures, type GateJobSample } from './gate-bench.js';

/** The shape of the figures, never their speed (this machine's timings are nobody's contract). */
function expectFigures(figures: GateFigures, jobs: number, concurrency: number): void {
  expect(figures).toMatchObject({ jobs, concurrency, provider: expect.stringMatching(/^(cpu|cuda)$/u), model: expect.stringContaining('mlp') });
  for (const [name, value] of Object.entries(figures)) {
    if (typeof value !== 'number') continue;
    expect({ name, finite: Number.isFinite(value) }).toEqual({ name, finite: true });
  }
  for (const name of [
    'gate_overhead_p50_ms_c1',
    'gate_overhead_p99_ms_c1',
    'gate_overhead_p50_ms_c16',
    'gate_overhead_p99_ms_c16',
    'gate_overhead_vs_onnx_run_c1',
    'gate_overhead_vs_onnx_run_c16',
    'onnx_run_p50_ms',
    'appends_p50_ms_c1',
    'job_total_p50_ms_c1',
    'jobs_per_second_c16',
  ] as const) {
    expect({ name, positive: figures[name] > 0 }).toEqual({ name, positive: true });
  }
  expect(figures.gate_overhead_p99_ms_c1).toBeGreaterThanOrEqual(figures.gate_overhead_p50_ms_c1);
  expect(figures.job_total_p50_ms_c1).toBeGreaterThan(figures.appends_p50_ms_c1);
  // Every job made exactly its three signed appends (assign, lease, accept), all on its own query stream.
  expect(figures.appends_per_job).toBe(3);
  expect(figures.appends_unattributed).toBe(0);
  expect(figures.event_loop_utilization_c16).toBeGreaterThan(0);
  expect(figures.event_loop_utilization_c16).toBeLessThanOrEqual(1);
}

describe('measureGateOverhead', () => {
  it('runs jobs end to end through the real services (in process) and returns plain figures', async () => {
    const samples: GateJobSample[] = [];
    const figures = await measureGateOverhead({ jobs: 6, concurrency: 3, policyDecisions: 20, onnxRuns: 20, onJob: (s) => samples.push(s) });
    expectFigures(figures, 6, 3);
    expect(figures.transport).toBe('in-process');
    expect(figures.policy_decision_p50_us).toBeGreaterThan(0);
    expect(figures.policy_decision_p99_us).toBeGreaterThanOrEqual(figures.policy_decision_p50_us);
    // Six measured jobs at each level; each one's parts add up to its total.
    expect(samples.map((s) => s.concurrency).sort()).toEqual([1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3]);
    for (const s of samples) {
      expect(s.appends).toBe(3);
      expect(s.runMs).toBeGreaterThan(0);
      expect(s.overheadMs).toBeCloseTo(s.totalMs - s.appendsMs - s.runMs, 6);
      expect(s.assignMs + s.leaseMs + s.workerMs + s.acceptMs).toBeCloseTo(s.overheadMs, 6);
    }
  }, 120_000);

  it('runs the same flow over HTTP (the listening server, as a worker process does)', async () => {
    const figures = await measureGateOverhead({ jobs: 4, concurrency: 2, transport: 'http', policyDecisions: 0, onnxRuns: 20, onnxThreads: 1 });
    expect(figures.transport).toBe('http');
    expect(figures.provider).toBe('cpu');
    expect(Number.isNaN(figures.policy_decision_p50_us)).toBe(true);
    expectFigures({ ...figures, policy_decision_p50_us: 0, policy_decision_p99_us: 0 }, 4, 2);
  }, 120_000);

  it('refuses nonsense sizes', async () => {
    await expect(measureGateOverhead({ jobs: 0 })).rejects.toThrow(RangeError);
    await expect(measureGateOverhead({ jobs: 1, concurrency: 1.5 })).rejects.toThrow(RangeError);
  });
});
