/** `FailRun` (CQRS command) and its thin handler. */
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StreamCommandRunner, type CommandEnvelope, type StreamCommandOutcome } from '../../../common/commands/stream-command.runner.js';
import { runCommand } from '../run-commands.js';
import type { FailRunResponse } from '../run.responses.js';
import { decideFailRun } from './fail-run.command.js';
import type { FailRunBody } from './fail-run.dto.js';

export class FailRun extends Command<StreamCommandOutcome<FailRunResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly runId: string,
    readonly body: FailRunBody,
  ) {
    super();
  }
}

@CommandHandler(FailRun)
export class FailRunHandler implements ICommandHandler<FailRun> {
  constructor(private readonly runner: StreamCommandRunner) {}

  execute({ envelope, runId, body }: FailRun): Promise<StreamCommandOutcome<FailRunResponse>> {
    return this.runner.run(
      envelope,
      runCommand({
        id: runId,
        mode: 'update',
        eventType: 'DistillationRunFailed',
        sameRequest: (data) => data.reason === body.reason,
        decide: (state) => decideFailRun({ runId, reason: body.reason }, state),
        respond: ({ id, revision, data }) => ({ runId: id, status: 'failed', reason: data.reason, revision }),
      }),
    );
  }
}
