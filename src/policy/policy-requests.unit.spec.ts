import { describe, expect, it } from '@jest/globals';
import { permille, promoteProxyRequest, runInferenceRequest } from './policy-requests.js';
import { engineWith, runInferenceInput } from './policy.test-kit.js';

describe('policy requests', () => {
  it('RunInference: pipeline in tenant, proxy with permille attributes, context with defaults for nulls', () => {
    const request = runInferenceRequest(runInferenceInput({ proxy: { fidelity: 0.8, drift: null }, context: { taskClass: null } }));
    expect(request).toEqual({
      principal: { type: 'IdaLedger::Pipeline', id: 'orchestrator-1' },
      action: { type: 'IdaLedger::Action', id: 'RunInference' },
      resource: { type: 'IdaLedger::ProxyVersion', id: '0190a000-0000-7000-8000-000000000001' },
      context: { taskClass: '', depth: 1, dataClassification: 'internal', mode: 'serving' },
      entities: [
        { uid: { type: 'IdaLedger::Tenant', id: 'acme' }, attrs: {}, parents: [] },
        { uid: { type: 'IdaLedger::Pipeline', id: 'orchestrator-1' }, attrs: {}, parents: [{ type: 'IdaLedger::Tenant', id: 'acme' }] },
        {
          uid: { type: 'IdaLedger::ProxyVersion', id: '0190a000-0000-7000-8000-000000000001' },
          // drift unknown: absent, never 0.
          attrs: {
            stage: 'production',
            fidelityPermille: 800,
            artifactSha256: `sha256:${'a'.repeat(64)}`,
            tenant: { __entity: { type: 'IdaLedger::Tenant', id: 'acme' } },
          },
          parents: [],
        },
      ],
    });
  });

  it('scales decimals to the nearest permille; anything outside [0, 1] stays visible as a string', () => {
    expect([0, 0.8, 0.1 + 0.7, 0.2, 0.2004, 0.9996, 1].map(permille)).toEqual([0, 800, 800, 200, 200, 1000, 1000]);
    expect([Number.NaN, -0.1, 1.5, Number.POSITIVE_INFINITY].map(permille)).toEqual(['NaN', '-0.1', '1.5', 'Infinity']);
  });

  it('PromoteProxy: the shipped set permits promotions within the tenant only', () => {
    const input = { tenant: 'acme', actorSub: 'admin-1', actorRole: 'admin', from: 'shadow', to: 'production', proxy: runInferenceInput().proxy };
    const engine = engineWith();
    expect(engine.decide('acme', promoteProxyRequest(input))).toMatchObject({
      decision: 'allow',
      determiningPolicies: ['promote-proxy.permit-same-tenant'],
    });
    expect(engine.decide('acme', promoteProxyRequest({ ...input, proxy: { ...input.proxy, tenant: 'globex' } })).decision).toBe('deny');
  });
});
