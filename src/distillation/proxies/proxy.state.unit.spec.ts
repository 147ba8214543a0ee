import { describe, expect, it } from '@jest/globals';
import { admin, ARTIFACT, at, givenProxy, pipeline, PROXY_ID, proxyEv, record, refusal, TENANT } from '../distillation.test-kit.js';
import { parseProxyEvent, toProposed } from './proxy.events.js';
import { proxyView, rehydrateProxy } from './proxy.state.js';

describe('proxy events', () => {
  it.each([
    proxyEv.registered(),
    proxyEv.registered({ source: { kind: 'imported', provenance: { origin: 'o', description: 'd', declaredBy: 'svc' } }, metrics: { fidelity: null, groundTruthAgreement: null, drift: null } }),
    proxyEv.promoted('candidate', 'shadow'),
    proxyEv.recalibrated(0.5),
    proxyEv.demoted('shadow', 0.5),
    proxyEv.retired('production'),
  ])('parse back exactly what was proposed (%#)', (event) => {
    expect(parseProxyEvent(toProposed(event))).toEqual(event);
  });

  it.each<[string, object]>([
    ['an unknown type', { type: 'ProxyRenamed', schema: 1, data: {} }],
    ['an unknown schema', { ...toProposed(proxyEv.retired('candidate')), schema: 9 }],
    ['an unknown stage', { type: 'ProxyRetired', schema: 1, data: { from: 'beta', reason: 'r' } }],
    ['an unknown source kind', { ...toProposed(proxyEv.registered()), data: { ...proxyEv.registered().data, source: { kind: 'magic' } } }],
    ['a bad gate name', { type: 'ProxyPromoted', schema: 1, data: { ...proxyEv.promoted('candidate', 'shadow').data, checks: [{ gate: 'vibes', required: 1, observed: 1, passed: true }] } }],
    ['a registration not as candidate', { ...toProposed(proxyEv.registered()), data: { ...proxyEv.registered().data, stage: 'production' } }],
  ])('refuse %s with PROXY.EVENT_INVALID (internal)', (_, entry) => {
    expect(refusal(() => parseProxyEvent(entry as never))).toMatchObject({ code: 'PROXY.EVENT_INVALID', category: 'internal' });
  });
});

describe('proxy state', () => {
  it('given nothing, then no proxy', () => {
    expect(rehydrateProxy([])).toBeNull();
  });

  it('given a registration, then a candidate with what consumers snapshot: id, tenant, stage, artifact digest', () => {
    expect(givenProxy(proxyEv.registered())).toMatchObject({
      proxyVersionId: PROXY_ID,
      tenant: TENANT,
      stage: 'candidate',
      artifactSha256: ARTIFACT,
      registeredAt: at(0),
      registeredBy: pipeline,
      lastRecalibration: null,
      transitions: [],
      revision: 0,
    });
  });

  it('given promotions, a recalibration and a retirement, then the view shows the whole history', () => {
    const state = givenProxy(
      proxyEv.registered(),
      proxyEv.promoted('candidate', 'shadow'),
      proxyEv.recalibrated(0.9),
      { event: proxyEv.promoted('shadow', 'production'), by: admin },
      proxyEv.retired('production', 'replaced'),
    );
    const view = proxyView(state!);
    expect(view).toMatchObject({
      stage: 'retired',
      lastRecalibration: { recalibrationId: 'recal-1', agreement: 0.9, sampleCount: 1, at: at(2), by: pipeline },
      revision: 4,
    });
    expect(view.transitions.map((t) => [t.kind, t.from, t.to, t.by.sub, t.reason])).toEqual([
      ['promoted', 'candidate', 'shadow', 'svc-orchestrator', null],
      ['promoted', 'shadow', 'production', 'root', null],
      ['retired', 'production', 'retired', 'svc-orchestrator', 'replaced'],
    ]);
  });

  it('skips other contexts’ event types on the stream', () => {
    const [first] = record([proxyEv.registered()]);
    expect(rehydrateProxy([first!, { ...first!, type: 'LineageNoted', revision: 1 }])).toMatchObject({ revision: 0 });
  });

  it.each([
    ['an event before registration', () => givenProxy(proxyEv.retired('candidate'))],
    ['a second registration', () => givenProxy(proxyEv.registered(), proxyEv.registered())],
    ['a promotion from a stage the proxy is not in', () => givenProxy(proxyEv.registered(), proxyEv.promoted('shadow', 'production'))],
    ['an event after retirement', () => givenProxy(proxyEv.registered(), proxyEv.retired('candidate'), proxyEv.recalibrated(1))],
    ['an event of another tenant', () => givenProxy(proxyEv.registered(), { event: proxyEv.retired('candidate'), tenant: 'tenant-b' })],
  ])('refuses %s with PROXY.CORRUPT_STREAM (internal)', (_, load) => {
    expect(refusal(load)).toMatchObject({ code: 'PROXY.CORRUPT_STREAM', category: 'internal' });
  });
});
