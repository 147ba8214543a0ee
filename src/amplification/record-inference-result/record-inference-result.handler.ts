/** `RecordInferenceResult` (CQRS command) and its thin handler: a proxy's result for one pending job. */
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { canonicalJson } from '../../ledger/canonical-json.js';
import type { JsonValue } from '../../ledger/entry.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../ledger/ledger.tokens.js';
import { loadQuery, NodeCommand, QueryCommandRunner, type CommandOutcome } from '../query-command.runner.js';
import type { RecordInferenceResultResponse } from '../query.responses.js';
import type { QueryState } from '../query.state.js';
import { decideRecordInferenceResult, inferenceOutcome } from './record-inference-result.command.js';
import type { RecordInferenceResultBody } from './record-inference-result.dto.js';

export class RecordInferenceResult extends NodeCommand<RecordInferenceResultBody, RecordInferenceResultResponse> {}

/** The response before `outcome` is known (see `execute`). */
type Recorded = Omit<RecordInferenceResultResponse, 'outcome'> & { events: readonly { type: string }[] };

@CommandHandler(RecordInferenceResult)
export class RecordInferenceResultHandler implements ICommandHandler<RecordInferenceResult> {
  constructor(
    private readonly runner: QueryCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ envelope, queryId, nodeId, body }: RecordInferenceResult): Promise<CommandOutcome<RecordInferenceResultResponse>> {
    const output = (body.output ?? null) as JsonValue;
    // Whether the job votes in an ensemble, seen by the decider; a replayed command did not decide, so it is
    // read back (a job's kind never changes once requested).
    let ensemble: boolean | undefined;
    const outcome = await this.runner.run<Recorded, 'InferenceCompleted'>(envelope, {
      queryId,
      mode: 'update',
      eventType: 'InferenceCompleted',
      sameRequest: (data) =>
        data.nodeId === nodeId &&
        data.jobId === body.jobId &&
        data.proxyVersionId === body.proxyVersionId &&
        data.answer === body.answer &&
        data.confidence === body.confidence &&
        sameJson(data.output, output),
      decide: (state) => {
        const events = decideRecordInferenceResult({ nodeId, ...body, output }, state);
        ensemble = isEnsembleJob(state, nodeId, body.jobId);
        return events;
      },
      respond: ({ queryId, data, events, revision }) => ({ queryId, nodeId: data.nodeId, jobId: data.jobId, events, revision }),
    });
    if (ensemble === undefined) {
      const { state } = await loadQuery(this.store, envelope.principal, queryId);
      ensemble = isEnsembleJob(state, outcome.body.nodeId, outcome.body.jobId);
    }
    const { events, ...rest } = outcome.body;
    return { ...outcome, body: { ...rest, outcome: inferenceOutcome(events, ensemble) } };
  }
}

function isEnsembleJob(state: QueryState, nodeId: string, jobId: string): boolean {
  if (state.status === 'none') return false;
  return state.nodes.get(nodeId)?.jobs.find((job) => job.jobId === jobId)?.ensemble === true;
}

function sameJson(a: JsonValue, b: JsonValue): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    // Not canonicalisable (a number JSON cannot carry): not what was recorded.
    return false;
  }
}
