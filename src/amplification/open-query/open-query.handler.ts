/** `OpenQuery` (CQRS command) and its thin handler: ids from the IdGenerator, then the shared runner. */
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { canonicalJson } from '../../ledger/canonical-json.js';
import type { JsonValue } from '../../ledger/entry.js';
import { QueryCommandRunner, type CommandEnvelope, type CommandOutcome } from '../query-command.runner.js';
import type { OpenQueryResponse } from '../query.responses.js';
import { DEFAULT_CONFIDENCE_THRESHOLD, DEFAULT_MAX_DEPTH, decideOpenQuery } from './open-query.command.js';
import type { OpenQueryBody } from './open-query.dto.js';

export class OpenQuery extends Command<CommandOutcome<OpenQueryResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly body: OpenQueryBody,
  ) {
    super();
  }
}

@CommandHandler(OpenQuery)
export class OpenQueryHandler implements ICommandHandler<OpenQuery> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, body }: OpenQuery): Promise<CommandOutcome<OpenQueryResponse>> {
    // Unused (and harmless) when the Idempotency-Key turns out to be a retry.
    const queryId = this.runner.newId();
    const rootNodeId = this.runner.newId();
    const input = body.input as JsonValue;
    return this.runner.run(envelope, {
      queryId,
      mode: 'create',
      eventType: 'AmplificationQueryOpened',
      sameRequest: (data) =>
        data.task === body.task &&
        data.maxDepth === (body.maxDepth ?? DEFAULT_MAX_DEPTH) &&
        data.confidenceThreshold === (body.confidenceThreshold ?? DEFAULT_CONFIDENCE_THRESHOLD) &&
        sameJson(data.input, input),
      decide: (state) => decideOpenQuery({ ...body, input, queryId, rootNodeId }, state),
      respond: ({ data, revision }) => ({ queryId: data.queryId, rootNodeId: data.rootNodeId, revision }),
    });
  }
}

function sameJson(a: JsonValue, b: JsonValue): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}
