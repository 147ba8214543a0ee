/** `CompleteRun` (CQRS command) and its handler: the artifact's presence in the store is the decider's fact. */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StreamCommandRunner, type CommandEnvelope, type StreamCommandOutcome } from '../../../common/commands/stream-command.runner.js';
import { ARTIFACT_STORE, type ArtifactStore } from '../../artifacts/artifact-store.port.js';
import { runCommand } from '../run-commands.js';
import type { CompleteRunResponse } from '../run.responses.js';
import { decideCompleteRun } from './complete-run.command.js';
import type { CompleteRunBody } from './complete-run.dto.js';

export class CompleteRun extends Command<StreamCommandOutcome<CompleteRunResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly runId: string,
    readonly body: CompleteRunBody,
  ) {
    super();
  }
}

@CommandHandler(CompleteRun)
export class CompleteRunHandler implements ICommandHandler<CompleteRun> {
  constructor(
    private readonly runner: StreamCommandRunner,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  async execute({ envelope, runId, body }: CompleteRun): Promise<StreamCommandOutcome<CompleteRunResponse>> {
    const artifact = await this.artifacts.stat(body.artifactSha256);
    const metrics = {
      fidelity: body.metrics.fidelity,
      groundTruthAgreement: body.metrics.groundTruthAgreement,
      drift: body.metrics.drift ?? null,
      heldOutQueryIds: body.metrics.heldOutQueryIds ?? [],
    };
    return this.runner.run(
      envelope,
      runCommand({
        id: runId,
        mode: 'update',
        eventType: 'DistillationRunCompleted',
        sameRequest: (data) =>
          data.artifact.sha256 === body.artifactSha256 &&
          data.metrics.fidelity === metrics.fidelity &&
          data.metrics.groundTruthAgreement === metrics.groundTruthAgreement &&
          data.metrics.drift === metrics.drift &&
          data.metrics.heldOutQueryIds.join('\n') === metrics.heldOutQueryIds.join('\n'),
        decide: (state) => decideCompleteRun({ runId, artifactSha256: body.artifactSha256, metrics }, state, { artifact }),
        respond: ({ id, revision, data }) => ({ runId: id, status: 'completed', artifact: data.artifact, metrics: data.metrics, revision }),
      }),
    );
  }
}
