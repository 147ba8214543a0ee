import { describe, expect, it } from '@jest/globals';
import { ARTIFACT, digest, givenProxy, PARENT_ID, proxyEv, refusal } from '../../distillation.test-kit.js';
import { decideImportProxy, type ImportProxyCommand, type ImportProxyFacts } from './import-proxy.command.js';

const command = (over: Partial<ImportProxyCommand> = {}): ImportProxyCommand => ({
  proxyVersionId: 'imp-1',
  name: 'vendor-model',
  version: '3.1',
  artifactSha256: ARTIFACT,
  provenance: { origin: 'vendor.example', description: 'Fine-tuned on the vendor’s triage set' },
  declaredBy: 'svc-orchestrator',
  parentProxyVersionId: null,
  metrics: null,
  ...over,
});
const facts = (over: Partial<ImportProxyFacts> = {}): ImportProxyFacts => ({ artifact: { sha256: ARTIFACT, sizeBytes: 99 }, parent: null, ...over });

describe('import-proxy', () => {
  it('given a stored artifact, when imported without metrics, then ProxyRegistered (imported, declared provenance, null metrics)', () => {
    expect(decideImportProxy(command(), null, facts())).toEqual([
      {
        type: 'ProxyRegistered',
        schema: 1,
        data: {
          proxyVersionId: 'imp-1',
          name: 'vendor-model',
          version: '3.1',
          source: {
            kind: 'imported',
            provenance: { origin: 'vendor.example', description: 'Fine-tuned on the vendor’s triage set', declaredBy: 'svc-orchestrator' },
          },
          parentProxyVersionId: null,
          artifact: { sha256: ARTIFACT, sizeBytes: 99 },
          metrics: { fidelity: null, groundTruthAgreement: null, drift: null },
          stage: 'candidate',
        },
      },
    ]);
  });

  it('given a parent of the tenant, when imported with some metrics, then they are recorded (missing ones null)', () => {
    const [event] = decideImportProxy(
      command({ parentProxyVersionId: PARENT_ID, metrics: { fidelity: 0.95, drift: 0.01 } }),
      null,
      facts({ parent: givenProxy(proxyEv.registered({ proxyVersionId: PARENT_ID })) }),
    );
    expect(event.data).toMatchObject({ parentProxyVersionId: PARENT_ID, metrics: { fidelity: 0.95, groundTruthAgreement: null, drift: 0.01 } });
  });

  it('when the artifact is not in the store, then PROXY.ARTIFACT_NOT_FOUND', () => {
    expect(refusal(() => decideImportProxy(command(), null, facts({ artifact: null })))).toMatchObject({
      code: 'PROXY.ARTIFACT_NOT_FOUND',
      category: 'unprocessable',
    });
    expect(refusal(() => decideImportProxy(command(), null, facts({ artifact: { sha256: digest('d'), sizeBytes: 1 } })))).toMatchObject({
      code: 'PROXY.ARTIFACT_NOT_FOUND',
    });
  });

  it('when the parent does not exist in the tenant, then PROXY.PARENT_NOT_FOUND', () => {
    expect(refusal(() => decideImportProxy(command({ parentProxyVersionId: 'ghost' }), null, facts()))).toMatchObject({
      code: 'PROXY.PARENT_NOT_FOUND',
      category: 'unprocessable',
    });
  });

  it('when the generated id is taken, then PROXY.ALREADY_EXISTS', () => {
    expect(refusal(() => decideImportProxy(command(), givenProxy(proxyEv.registered()), facts()))).toMatchObject({ code: 'PROXY.ALREADY_EXISTS' });
  });

  it.each<[string, Partial<ImportProxyCommand>, string]>([
    ['a blank origin', { provenance: { origin: ' ', description: 'd' } }, 'provenance.origin'],
    ['a blank description', { provenance: { origin: 'o', description: '' } }, 'provenance.description'],
    ['a fidelity above 1', { metrics: { fidelity: 1.5 } }, 'metrics.fidelity'],
    ['a malformed digest', { artifactSha256: 'sha256:zz' }, 'artifactSha256'],
  ])('when imported with %s, then PROXY.INVALID_COMMAND', (_, over, field) => {
    expect(refusal(() => decideImportProxy(command(over), null, facts()))).toMatchObject({ code: 'PROXY.INVALID_COMMAND', details: { field } });
  });
});
