/**
 * Import a proxy trained outside the ledger (a vendor model, an earlier pipeline). Its provenance is declared,
 * not derived — and recorded as such, with who declared it — so lineage shows where the ledger's knowledge
 * stops. The artifact must already be in the artifact store (its size is the store's).
 */
import type { ArtifactInfo } from '../../artifacts/artifact-store.port.js';
import type { ProxyRegistered } from '../proxy.events.js';
import {
  invalidProxy,
  MAX_PROXY_NAME_LENGTH,
  MAX_PROXY_VERSION_LENGTH,
  refuseProxy,
  requireProxyDigest,
  requireProxyId,
  requireProxyText,
  requireProxyUnitOrNull,
} from '../proxy.guards.js';
import type { ProxyState } from '../proxy.state.js';

export const MAX_ORIGIN_LENGTH = 500;
export const MAX_DESCRIPTION_LENGTH = 4000;

export interface ImportProxyCommand {
  proxyVersionId: string;
  name: string;
  version: string;
  artifactSha256: string;
  provenance: { origin: string; description: string };
  /** The caller's subject: who declared the provenance. */
  declaredBy: string;
  parentProxyVersionId: string | null;
  /** Unknown metrics are null (an imported model may come without any). */
  metrics: { fidelity?: number | null; groundTruthAgreement?: number | null; drift?: number | null } | null;
}

export interface ImportProxyFacts {
  artifact: ArtifactInfo | null;
  /** The parent when the command names one: null when it does not exist (a foreign one was refused). */
  parent: ProxyState | null;
}

export function decideImportProxy(command: ImportProxyCommand, state: ProxyState | null, facts: ImportProxyFacts): [ProxyRegistered] {
  const proxyVersionId = requireProxyId(command.proxyVersionId, 'proxyVersionId');
  const name = requireProxyText(command.name, 'name', MAX_PROXY_NAME_LENGTH);
  const version = requireProxyText(command.version, 'version', MAX_PROXY_VERSION_LENGTH);
  const sha256 = requireProxyDigest(command.artifactSha256, 'artifactSha256');
  const origin = requireProxyText(command.provenance?.origin, 'provenance.origin', MAX_ORIGIN_LENGTH);
  const description = requireProxyText(command.provenance?.description, 'provenance.description', MAX_DESCRIPTION_LENGTH);
  const declaredBy = requireProxyText(command.declaredBy, 'declaredBy', MAX_PROXY_NAME_LENGTH);
  const parentProxyVersionId = command.parentProxyVersionId === null ? null : requireProxyId(command.parentProxyVersionId, 'parentProxyVersionId');
  if (command.metrics !== null && (typeof command.metrics !== 'object' || Array.isArray(command.metrics))) {
    throw invalidProxy('metrics', 'must be an object or null');
  }
  const metrics = {
    fidelity: requireProxyUnitOrNull(command.metrics?.fidelity, 'metrics.fidelity'),
    groundTruthAgreement: requireProxyUnitOrNull(command.metrics?.groundTruthAgreement, 'metrics.groundTruthAgreement'),
    drift: requireProxyUnitOrNull(command.metrics?.drift, 'metrics.drift'),
  };

  // Ids are generated per request; a collision would mean a broken id generator, never a client mistake.
  if (state !== null) throw refuseProxy('PROXY.ALREADY_EXISTS', `Proxy version ${proxyVersionId} already exists`, { proxyVersionId });
  if (parentProxyVersionId !== null && facts.parent === null) {
    throw refuseProxy('PROXY.PARENT_NOT_FOUND', `Parent proxy ${parentProxyVersionId} not found`, { parentProxyVersionId });
  }
  if (facts.artifact === null || facts.artifact.sha256 !== sha256) {
    throw refuseProxy('PROXY.ARTIFACT_NOT_FOUND', `Artifact ${sha256} is not in the artifact store; upload it first (POST /v1/artifacts)`, {
      artifactSha256: sha256,
    });
  }

  return [
    {
      type: 'ProxyRegistered',
      schema: 1,
      data: {
        proxyVersionId,
        name,
        version,
        source: { kind: 'imported', provenance: { origin, description, declaredBy } },
        parentProxyVersionId,
        artifact: { sha256, sizeBytes: facts.artifact.sizeBytes },
        metrics,
        stage: 'candidate',
      },
    },
  ];
}
