import { describe, expect, it } from '@jest/globals';
import { ARTIFACT, PROXY_ID, proxyEv, record } from '../distillation/distillation.test-kit.js';
import { proxySnapshotOf } from './proxy-snapshot.js';
import { refusal } from './query.test-kit.js';

describe('proxySnapshotOf (through the registry fold)', () => {
  it('an empty stream: no proxy', () => {
    expect(proxySnapshotOf([])).toBeNull();
  });

  it('registered: a candidate of the registering tenant, with its artifact digest and metrics', () => {
    expect(proxySnapshotOf(record([proxyEv.registered()]))).toEqual({
      proxyVersionId: PROXY_ID,
      tenant: 'tenant-a',
      stage: 'candidate',
      artifactSha256: ARTIFACT,
      fidelity: 0.9,
      drift: null,
    });
  });

  it('follows promotions, recalibrations, demotions and retirement', () => {
    const up = [proxyEv.registered(), proxyEv.promoted('candidate', 'shadow'), proxyEv.promoted('shadow', 'production'), proxyEv.recalibrated(0.9)];
    expect(proxySnapshotOf(record(up))?.stage).toBe('production');
    expect(proxySnapshotOf(record([...up, proxyEv.recalibrated(0.1, 'recal-2'), proxyEv.demoted('production', 0.1)]))?.stage).toBe('candidate');
    expect(proxySnapshotOf(record([...up, proxyEv.retired('production')]))?.stage).toBe('retired');
    expect(proxySnapshotOf(record(up, 'tenant-b'))?.tenant).toBe('tenant-b');
  });

  it('a stream that does not start with a registration is an internal error, never "not found"', () => {
    expect(refusal(() => proxySnapshotOf(record([proxyEv.promoted('candidate', 'shadow')]))).category).toBe('internal');
  });
});
