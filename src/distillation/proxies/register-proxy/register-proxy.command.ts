/**
 * Register the proxy a completed distillation run produced. The proxy version id IS the run id (stream
 * `proxy-<runId>`, expected `no_stream`), so one run yields at most one proxy version; parent, artifact and
 * metrics are copied from the run, never restated by the client.
 */
import type { RunState } from '../../runs/run.state.js';
import type { ProxyRegistered } from '../proxy.events.js';
import {
  MAX_PROXY_NAME_LENGTH,
  MAX_PROXY_VERSION_LENGTH,
  refuseProxy,
  requireProxyId,
  requireProxyText,
} from '../proxy.guards.js';
import type { ProxyState } from '../proxy.state.js';

export interface RegisterProxyCommand {
  runId: string;
  name: string;
  version: string;
}

export interface RegisterProxyFacts {
  /** The run in the caller's tenant, or null when there is none (a foreign one was refused before deciding). */
  run: RunState | null;
}

export function decideRegisterProxy(command: RegisterProxyCommand, state: ProxyState | null, facts: RegisterProxyFacts): [ProxyRegistered] {
  const runId = requireProxyId(command.runId, 'runId');
  const name = requireProxyText(command.name, 'name', MAX_PROXY_NAME_LENGTH);
  const version = requireProxyText(command.version, 'version', MAX_PROXY_VERSION_LENGTH);

  if (state !== null) {
    throw refuseProxy('PROXY.ALREADY_REGISTERED', `Run ${runId} already yielded proxy version ${state.proxyVersionId}`, {
      runId,
      proxyVersionId: state.proxyVersionId,
    });
  }
  const run = facts.run;
  if (run === null) throw refuseProxy('PROXY.RUN_NOT_FOUND', `Distillation run ${runId} not found`, { runId });
  if (run.status !== 'completed' || run.completion === null) {
    throw refuseProxy('PROXY.RUN_NOT_COMPLETED', `Distillation run ${runId} is ${run.status}; only a completed run yields a proxy`, {
      runId,
      status: run.status,
    });
  }
  const { artifact, metrics } = run.completion;
  return [
    {
      type: 'ProxyRegistered',
      schema: 1,
      data: {
        proxyVersionId: runId,
        name,
        version,
        source: { kind: 'distillation', runId },
        parentProxyVersionId: run.parentProxyVersionId,
        artifact: { sha256: artifact.sha256, sizeBytes: artifact.sizeBytes },
        metrics: { fidelity: metrics.fidelity, groundTruthAgreement: metrics.groundTruthAgreement, drift: metrics.drift },
        stage: 'candidate',
      },
    },
  ];
}
