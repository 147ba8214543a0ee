/** Complete a running distillation run with its trained artifact (already in the artifact store) and metrics. */
import type { ArtifactInfo } from '../../artifacts/artifact-store.port.js';
import { firstDuplicate } from '../../../common/domain-values.js';
import { ONNX_MEDIA_TYPE, type DistillationRunCompleted } from '../run.events.js';
import {
  invalidRun,
  refuseRun,
  requireRun,
  requireRunDigest,
  requireRunId,
  requireRunning,
  requireRunUnit,
} from '../run.guards.js';
import type { RunState } from '../run.state.js';

export interface CompleteRunCommand {
  runId: string;
  artifactSha256: string;
  metrics: { fidelity: number; groundTruthAgreement: number; drift: number | null; heldOutQueryIds: readonly string[] };
}

export interface CompleteRunFacts {
  /** The artifact as the store has it (its size is the store's, not the client's), or null when absent. */
  artifact: ArtifactInfo | null;
}

export function decideCompleteRun(command: CompleteRunCommand, state: RunState | null, facts: CompleteRunFacts): [DistillationRunCompleted] {
  const runId = requireRunId(command.runId, 'runId');
  const sha256 = requireRunDigest(command.artifactSha256, 'artifactSha256');
  const m = command.metrics;
  const fidelity = requireRunUnit(m?.fidelity, 'metrics.fidelity');
  const groundTruthAgreement = requireRunUnit(m?.groundTruthAgreement, 'metrics.groundTruthAgreement');
  const drift = m?.drift === null ? null : requireRunUnit(m?.drift, 'metrics.drift');
  if (!Array.isArray(m?.heldOutQueryIds)) throw invalidRun('metrics.heldOutQueryIds', 'must be an array of query ids');
  const heldOutQueryIds = m.heldOutQueryIds.map((id, i) => requireRunId(id, `metrics.heldOutQueryIds[${i}]`));
  const duplicate = firstDuplicate(heldOutQueryIds);
  if (duplicate !== undefined) throw invalidRun('metrics.heldOutQueryIds', `query ${duplicate} is listed twice`);

  const run = requireRunning(requireRun(state, runId));

  // Held-out queries are the part of the dataset kept for evaluation: the dataset root commits to them too.
  const outside = heldOutQueryIds.find((id) => !run.dataset.queryIds.includes(id));
  if (outside !== undefined) throw invalidRun('metrics.heldOutQueryIds', `query ${outside} is not in the run's dataset`);
  // Drift is measured against the parent; without one there is nothing to drift from.
  if (drift === null && run.parentProxyVersionId !== null) {
    throw refuseRun('DISTILLATION.DRIFT_REQUIRED', 'A run with a parent proxy must report its drift from the parent', {
      parentProxyVersionId: run.parentProxyVersionId,
    });
  }
  if (facts.artifact === null || facts.artifact.sha256 !== sha256) {
    throw refuseRun('DISTILLATION.ARTIFACT_NOT_FOUND', `Artifact ${sha256} is not in the artifact store; upload it first (POST /v1/artifacts)`, {
      artifactSha256: sha256,
    });
  }

  return [
    {
      type: 'DistillationRunCompleted',
      schema: 1,
      data: {
        runId,
        artifact: { sha256, sizeBytes: facts.artifact.sizeBytes, mediaType: ONNX_MEDIA_TYPE },
        metrics: { fidelity, groundTruthAgreement, drift, heldOutQueryIds },
      },
    },
  ];
}
