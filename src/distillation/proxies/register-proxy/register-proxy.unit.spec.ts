import { describe, expect, it } from '@jest/globals';
import { ARTIFACT, givenProxy, givenRun, PARENT_ID, proxyEv, refusal, RUN_ID, runEv } from '../../distillation.test-kit.js';
import { decideRegisterProxy, type RegisterProxyCommand } from './register-proxy.command.js';

const command = (over: Partial<RegisterProxyCommand> = {}): RegisterProxyCommand => ({ runId: RUN_ID, name: 'triage-proxy', version: '2.0.0', ...over });

describe('register-proxy', () => {
  describe('given a completed run and no proxy yet', () => {
    const run = givenRun(runEv.started({ parentProxyVersionId: PARENT_ID }), runEv.completed({ drift: 0.05 }, 4096));

    it('when registered, then ProxyRegistered as candidate, id = run id, parent/artifact/metrics copied from the run', () => {
      expect(decideRegisterProxy(command(), null, { run })).toEqual([
        {
          type: 'ProxyRegistered',
          schema: 1,
          data: {
            proxyVersionId: RUN_ID,
            name: 'triage-proxy',
            version: '2.0.0',
            source: { kind: 'distillation', runId: RUN_ID },
            parentProxyVersionId: PARENT_ID,
            artifact: { sha256: ARTIFACT, sizeBytes: 4096 },
            metrics: { fidelity: 0.9, groundTruthAgreement: 0.85, drift: 0.05 },
            stage: 'candidate',
          },
        },
      ]);
    });

    it.each<[string, Partial<RegisterProxyCommand>, string]>([
      ['a blank name', { name: ' ' }, 'name'],
      ['a blank version', { version: '' }, 'version'],
      ['an over-long version', { version: 'v'.repeat(101) }, 'version'],
    ])('when registered with %s, then PROXY.INVALID_COMMAND', (_, over, field) => {
      expect(refusal(() => decideRegisterProxy(command(over), null, { run }))).toMatchObject({ code: 'PROXY.INVALID_COMMAND', details: { field } });
    });
  });

  describe('refusals', () => {
    it('given the run already yielded its proxy, when registered again, then PROXY.ALREADY_REGISTERED (conflict)', () => {
      const run = givenRun(runEv.started(), runEv.completed());
      expect(refusal(() => decideRegisterProxy(command(), givenProxy(proxyEv.registered()), { run }))).toMatchObject({
        code: 'PROXY.ALREADY_REGISTERED',
        category: 'conflict',
        details: { runId: RUN_ID, proxyVersionId: RUN_ID },
      });
    });

    it('given a failed run, when registered, then PROXY.RUN_NOT_COMPLETED (conflict)', () => {
      expect(refusal(() => decideRegisterProxy(command(), null, { run: givenRun(runEv.started(), runEv.failed()) }))).toMatchObject({
        code: 'PROXY.RUN_NOT_COMPLETED',
        category: 'conflict',
        details: { status: 'failed' },
      });
    });

    it('given a running run, when registered, then PROXY.RUN_NOT_COMPLETED', () => {
      expect(refusal(() => decideRegisterProxy(command(), null, { run: givenRun(runEv.started()) }))).toMatchObject({
        code: 'PROXY.RUN_NOT_COMPLETED',
        details: { status: 'running' },
      });
    });

    it('given no such run in the tenant, when registered, then PROXY.RUN_NOT_FOUND (unprocessable)', () => {
      expect(refusal(() => decideRegisterProxy(command(), null, { run: null }))).toMatchObject({
        code: 'PROXY.RUN_NOT_FOUND',
        category: 'unprocessable',
      });
    });
  });
});
