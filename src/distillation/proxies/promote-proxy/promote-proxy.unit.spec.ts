import { describe, expect, it } from '@jest/globals';
import { DAY, GATES, givenProxy, PARENT_ID, PROXY_ID, proxyEv, refusal, T0 } from '../../distillation.test-kit.js';
import { decidePromoteProxy } from './promote-proxy.command.js';

/** "now" for the decider: `days` after T0. */
const now = (days: number) => new Date(T0 + days * DAY);
const facts = (days = 10, gates = GATES) => ({ gates, now: now(days) });
const promote = (to: 'shadow' | 'production') => ({ proxyVersionId: PROXY_ID, to });

describe('promote-proxy', () => {
  describe('candidate → shadow', () => {
    it('given fidelity and drift within the gates, then ProxyPromoted recording the gates and every check', () => {
      const state = givenProxy(proxyEv.registered({ metrics: { fidelity: 0.9, groundTruthAgreement: 0.7, drift: null } }));
      expect(decidePromoteProxy(promote('shadow'), state, facts())).toEqual([
        {
          type: 'ProxyPromoted',
          schema: 1,
          data: {
            from: 'candidate',
            to: 'shadow',
            gates: GATES,
            checks: [
              { gate: 'minFidelity', required: 0.8, observed: 0.9, passed: true },
              { gate: 'maxDrift', required: 0.2, observed: null, passed: true },
            ],
          },
        },
      ]);
    });

    it('given fidelity exactly at minFidelity and drift exactly at maxDrift, then it passes (inclusive bounds)', () => {
      const state = givenProxy(proxyEv.registered({ parentProxyVersionId: PARENT_ID, metrics: { fidelity: 0.8, groundTruthAgreement: null, drift: 0.2 } }));
      expect(decidePromoteProxy(promote('shadow'), state, facts())[0].data.checks.every((c) => c.passed)).toBe(true);
    });

    it('given fidelity below the gate, then PROXY.GATES_NOT_MET (conflict) with every check in details', () => {
      const state = givenProxy(proxyEv.registered({ metrics: { fidelity: 0.5, groundTruthAgreement: 0.9, drift: 0.1 } }));
      expect(refusal(() => decidePromoteProxy(promote('shadow'), state, facts()))).toMatchObject({
        code: 'PROXY.GATES_NOT_MET',
        category: 'conflict',
        details: {
          from: 'candidate',
          to: 'shadow',
          gates: GATES,
          checks: [
            { gate: 'minFidelity', required: 0.8, observed: 0.5, passed: false },
            { gate: 'maxDrift', required: 0.2, observed: 0.1, passed: true },
          ],
        },
      });
    });

    it('given drift above the gate, then PROXY.GATES_NOT_MET', () => {
      const state = givenProxy(proxyEv.registered({ parentProxyVersionId: PARENT_ID, metrics: { fidelity: 0.9, groundTruthAgreement: 0.9, drift: 0.3 } }));
      expect(refusal(() => decidePromoteProxy(promote('shadow'), state, facts())).code).toBe('PROXY.GATES_NOT_MET');
    });

    it('given a proxy with a parent but no drift measured, then PROXY.GATES_NOT_MET (null drift passes only without a parent)', () => {
      const state = givenProxy(proxyEv.registered({ parentProxyVersionId: PARENT_ID, metrics: { fidelity: 0.9, groundTruthAgreement: null, drift: null } }));
      expect(refusal(() => decidePromoteProxy(promote('shadow'), state, facts())).details['checks']).toContainEqual({
        gate: 'maxDrift',
        required: 0.2,
        observed: null,
        passed: false,
      });
    });

    it('given an imported proxy without a fidelity, then PROXY.GATES_NOT_MET', () => {
      const state = givenProxy(proxyEv.registered({ metrics: { fidelity: null, groundTruthAgreement: null, drift: null } }));
      expect(refusal(() => decidePromoteProxy(promote('shadow'), state, facts())).code).toBe('PROXY.GATES_NOT_MET');
    });

    it('given stricter tenant gates, then those are the ones applied and recorded', () => {
      const state = givenProxy(proxyEv.registered());
      const strict = { ...GATES, minFidelity: 0.95 };
      expect(refusal(() => decidePromoteProxy(promote('shadow'), state, facts(10, strict)))).toMatchObject({
        code: 'PROXY.GATES_NOT_MET',
        details: { gates: strict },
      });
    });
  });

  describe('shadow → production', () => {
    const shadow = [proxyEv.registered(), proxyEv.promoted('candidate', 'shadow')] as const;

    it('given a passing recalibration within maxRecalibrationAgeDays, then ProxyPromoted with four checks', () => {
      // Recalibrated at revision 2 = T0 + 2 days; now = T0 + 32 days: exactly 30 days old.
      const state = givenProxy(...shadow, proxyEv.recalibrated(0.85));
      const [event] = decidePromoteProxy(promote('production'), state, facts(32));
      expect(event.data).toMatchObject({ from: 'shadow', to: 'production' });
      expect(event.data.checks).toEqual([
        { gate: 'minFidelity', required: 0.8, observed: 0.9, passed: true },
        { gate: 'maxDrift', required: 0.2, observed: null, passed: true },
        { gate: 'minAgreement', required: 0.8, observed: 0.85, passed: true },
        { gate: 'maxRecalibrationAgeDays', required: 30, observed: 30, passed: true },
      ]);
    });

    it('given a stale recalibration, then PROXY.GATES_NOT_MET naming its age', () => {
      const state = givenProxy(...shadow, proxyEv.recalibrated(0.95));
      const error = refusal(() => decidePromoteProxy(promote('production'), state, facts(32.5)));
      expect(error.code).toBe('PROXY.GATES_NOT_MET');
      expect(error.details['checks']).toContainEqual({ gate: 'maxRecalibrationAgeDays', required: 30, observed: 30.5, passed: false });
    });

    it('given no recalibration at all, then PROXY.GATES_NOT_MET with both recalibration checks failing on null', () => {
      const error = refusal(() => decidePromoteProxy(promote('production'), givenProxy(...shadow), facts()));
      expect(error.details['checks']).toEqual(
        expect.arrayContaining([
          { gate: 'minAgreement', required: 0.8, observed: null, passed: false },
          { gate: 'maxRecalibrationAgeDays', required: 30, observed: null, passed: false },
        ]),
      );
    });

    it('given the last recalibration below minAgreement (on a candidate, so not demoted), then PROXY.GATES_NOT_MET', () => {
      // Recalibrated as a candidate (no demotion there), then promoted to shadow.
      const state = givenProxy(proxyEv.registered(), proxyEv.recalibrated(0.5), proxyEv.promoted('candidate', 'shadow'));
      expect(refusal(() => decidePromoteProxy(promote('production'), state, facts(3))).details['checks']).toContainEqual({
        gate: 'minAgreement',
        required: 0.8,
        observed: 0.5,
        passed: false,
      });
    });

    it('given a later, passing recalibration, then the last one is what counts', () => {
      const state = givenProxy(...shadow, proxyEv.recalibrated(0.6, 'r-1', 0.5), proxyEv.recalibrated(0.9, 'r-2'));
      expect(decidePromoteProxy(promote('production'), state, facts(4))[0].data.checks[2]).toEqual({
        gate: 'minAgreement',
        required: 0.8,
        observed: 0.9,
        passed: true,
      });
    });
  });

  describe('invalid transitions: PROXY.INVALID_TRANSITION (conflict), whatever the gates', () => {
    it.each<[string, () => ReturnType<typeof givenProxy>, 'shadow' | 'production', string]>([
      ['candidate straight to production', () => givenProxy(proxyEv.registered()), 'production', 'candidate'],
      ['shadow to shadow again', () => givenProxy(proxyEv.registered(), proxyEv.promoted('candidate', 'shadow')), 'shadow', 'shadow'],
      [
        'production back to shadow',
        () => givenProxy(proxyEv.registered(), proxyEv.promoted('candidate', 'shadow'), proxyEv.recalibrated(1), proxyEv.promoted('shadow', 'production')),
        'shadow',
        'production',
      ],
      ['a retired proxy', () => givenProxy(proxyEv.registered(), proxyEv.retired('candidate')), 'shadow', 'retired'],
    ])('%s', (_, state, to, from) => {
      expect(refusal(() => decidePromoteProxy(promote(to), state(), facts()))).toMatchObject({
        code: 'PROXY.INVALID_TRANSITION',
        category: 'conflict',
        details: { from, to },
      });
    });
  });

  it('given no proxy, then PROXY.NOT_FOUND', () => {
    expect(refusal(() => decidePromoteProxy(promote('shadow'), null, facts()))).toMatchObject({ code: 'PROXY.NOT_FOUND', category: 'not_found' });
  });

  it('given an unknown target stage, then PROXY.INVALID_COMMAND', () => {
    expect(refusal(() => decidePromoteProxy({ proxyVersionId: PROXY_ID, to: 'retired' as never }, givenProxy(proxyEv.registered()), facts()))).toMatchObject({
      code: 'PROXY.INVALID_COMMAND',
      details: { field: 'to' },
    });
  });
});
