import { describe, expect, it } from '@jest/globals';
import { givenProxy, PROXY_ID, proxyEv, refusal, sequentialIds } from '../../distillation.test-kit.js';
import { decideRecalibrateProxy, foldAnswer, MAX_SAMPLES, type RecalibrateProxyCommand } from './recalibrate-proxy.command.js';

const sample = (humanAnswer: string, proxyAnswer: string, i = 1) => ({ queryId: `q-${i}`, nodeId: `n-${i}`, humanAnswer, proxyAnswer });
const command = (samples: RecalibrateProxyCommand['samples']): RecalibrateProxyCommand => ({ proxyVersionId: PROXY_ID, samples });
const facts = { minAgreement: 0.8 };
const shadow = () => givenProxy(proxyEv.registered(), proxyEv.promoted('candidate', 'shadow'));
const production = () => givenProxy(proxyEv.registered(), proxyEv.promoted('candidate', 'shadow'), proxyEv.recalibrated(0.9), proxyEv.promoted('shadow', 'production'));

describe('recalibrate-proxy', () => {
  it('folds answers: trimmed and case-folded', () => {
    expect(foldAnswer('  Yes ')).toBe(foldAnswer('yES'));
    expect(foldAnswer('STRASSE')).toBe(foldAnswer('straße'));
    expect(foldAnswer('yes')).not.toBe(foldAnswer('yes.'));
  });

  it('given a shadow proxy, when 4 of 5 samples agree (= minAgreement), then ProxyRecalibrated only', () => {
    const samples = [sample(' Yes', 'yes', 1), sample('no', 'NO ', 2), sample('a', 'a', 3), sample('b', 'b', 4), sample('x', 'y', 5)];
    expect(decideRecalibrateProxy(command(samples), shadow(), facts, sequentialIds('recal'))).toEqual([
      {
        type: 'ProxyRecalibrated',
        schema: 1,
        data: {
          recalibrationId: 'recal-1',
          samples: samples.map((s, i) => ({ ...s, agrees: i < 4 })),
          agreement: 0.8,
          minAgreement: 0.8,
        },
      },
    ]);
  });

  it.each([
    ['shadow', shadow],
    ['production', production],
  ] as const)('given a %s proxy, when agreement falls below minAgreement, then ProxyRecalibrated + ProxyDemoted to candidate in one decision', (stage, state) => {
    const events = decideRecalibrateProxy(command([sample('yes', 'no', 1), sample('a', 'a', 2)]), state(), facts, sequentialIds());
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ type: 'ProxyRecalibrated', data: { agreement: 0.5, minAgreement: 0.8 } });
    expect(events[1]).toEqual({
      type: 'ProxyDemoted',
      schema: 1,
      data: { from: stage, to: 'candidate', reason: 'recalibration_below_min_agreement', agreement: 0.5, minAgreement: 0.8 },
    });
  });

  it('given a candidate, when agreement is below minAgreement, then only ProxyRecalibrated (a candidate does not serve)', () => {
    const events = decideRecalibrateProxy(command([sample('yes', 'no')]), givenProxy(proxyEv.registered()), facts, sequentialIds());
    expect(events.map((e) => e.type)).toEqual(['ProxyRecalibrated']);
    expect(events[0].data.agreement).toBe(0);
  });

  it('then the demotion evolves the proxy back to candidate, keeping the recalibration as the last one', () => {
    const [recalibrated, demoted] = decideRecalibrateProxy(command([sample('yes', 'no')]), shadow(), facts, sequentialIds());
    const state = givenProxy(proxyEv.registered(), proxyEv.promoted('candidate', 'shadow'), recalibrated, demoted!);
    expect(state).toMatchObject({ stage: 'candidate', lastRecalibration: { agreement: 0, minAgreement: 0.8, sampleCount: 1 } });
    expect(state!.transitions.map((t) => `${t.kind}:${t.from}->${t.to}`)).toEqual(['promoted:candidate->shadow', 'demoted:shadow->candidate']);
  });

  it('given a retired proxy, then PROXY.RETIRED (conflict)', () => {
    expect(refusal(() => decideRecalibrateProxy(command([sample('a', 'a')]), givenProxy(proxyEv.registered(), proxyEv.retired('candidate')), facts, sequentialIds()))).toMatchObject({
      code: 'PROXY.RETIRED',
      category: 'conflict',
    });
  });

  it('given no proxy, then PROXY.NOT_FOUND', () => {
    expect(refusal(() => decideRecalibrateProxy(command([sample('a', 'a')]), null, facts, sequentialIds()))).toMatchObject({ code: 'PROXY.NOT_FOUND' });
  });

  it.each<[string, RecalibrateProxyCommand['samples'], string]>([
    ['no samples', [], 'samples'],
    ['too many samples', Array.from({ length: MAX_SAMPLES + 1 }, (_, i) => sample('a', 'a', i)), 'samples'],
    ['an empty query id', [{ ...sample('a', 'a'), queryId: '' }], 'samples[0].queryId'],
    ['a non-string answer', [{ ...sample('a', 'a'), proxyAnswer: 3 as never }], 'samples[0].proxyAnswer'],
  ])('given %s, then PROXY.INVALID_COMMAND', (_, samples, field) => {
    expect(refusal(() => decideRecalibrateProxy(command(samples), shadow(), facts, sequentialIds()))).toMatchObject({
      code: 'PROXY.INVALID_COMMAND',
      details: { field },
    });
  });
});
