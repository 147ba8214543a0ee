import { describe, expect, it } from '@jest/globals';
import { givenProxy, PROXY_ID, proxyEv, refusal } from '../../distillation.test-kit.js';
import { decideRetireProxy } from './retire-proxy.command.js';

describe('retire-proxy', () => {
  it.each([
    ['candidate', () => givenProxy(proxyEv.registered())],
    ['shadow', () => givenProxy(proxyEv.registered(), proxyEv.promoted('candidate', 'shadow'))],
    ['production', () => givenProxy(proxyEv.registered(), proxyEv.promoted('candidate', 'shadow'), proxyEv.recalibrated(1), proxyEv.promoted('shadow', 'production'))],
  ] as const)('given a %s proxy, when retired, then ProxyRetired from that stage', (stage, state) => {
    expect(decideRetireProxy({ proxyVersionId: PROXY_ID, reason: 'superseded by v3' }, state())).toEqual([
      { type: 'ProxyRetired', schema: 1, data: { from: stage, reason: 'superseded by v3' } },
    ]);
  });

  it('given a retired proxy, when retired again, then PROXY.INVALID_TRANSITION (retired is final)', () => {
    expect(refusal(() => decideRetireProxy({ proxyVersionId: PROXY_ID, reason: 'again' }, givenProxy(proxyEv.registered(), proxyEv.retired('candidate'))))).toMatchObject({
      code: 'PROXY.INVALID_TRANSITION',
      details: { from: 'retired', to: 'retired' },
    });
  });

  it('given a blank reason, then PROXY.INVALID_COMMAND', () => {
    expect(refusal(() => decideRetireProxy({ proxyVersionId: PROXY_ID, reason: '' }, givenProxy(proxyEv.registered())))).toMatchObject({
      code: 'PROXY.INVALID_COMMAND',
      details: { field: 'reason' },
    });
  });

  it('given no proxy, then PROXY.NOT_FOUND', () => {
    expect(refusal(() => decideRetireProxy({ proxyVersionId: PROXY_ID, reason: 'r' }, null))).toMatchObject({ code: 'PROXY.NOT_FOUND' });
  });
});
