/**
 * Start a distillation run over completed queries of the tenant. The dataset commitment (Merkle root over the
 * transcripts' exact entries) and the teacher are computed here from the transcripts the handler read, never
 * taken from the client.
 */
import type { IntegratedEntry, JsonObject } from '../../../ledger/entry.js';
import { datasetRoot } from '../../dataset-root.js';
import { cloneJson, firstDuplicate, isJsonObject } from '../../../common/domain-values.js';
import type { ProxyState } from '../../proxies/proxy.state.js';
import type { DistillationRunStarted } from '../run.events.js';
import { invalidRun, refuseRun, requireRunDigest, requireRunId, requireRunText } from '../run.guards.js';
import type { RunState } from '../run.state.js';
import { deriveTeacher } from '../run.teacher.js';

export const MAX_DATASET_QUERIES = 10_000;
export const MAX_NAME_LENGTH = 200;

export interface StartRunCommand {
  runId: string;
  queryIds: readonly string[];
  parentProxyVersionId: string | null;
  student: { name: string; architecture: string; hyperparameters: JsonObject };
  trainingDigest: string;
}

/** A query as the handler found it in the caller's tenant, with every entry of its stream at that moment. */
export interface QueryTranscript {
  /** `none`: no such query (a foreign one was refused before deciding). */
  status: 'none' | 'open' | 'completed' | 'stopped';
  entries: readonly IntegratedEntry[];
}

export interface StartRunFacts {
  /** Every query id of the command, as found. */
  queries: ReadonlyMap<string, QueryTranscript>;
  /** The parent proxy when the command names one: null when it does not exist (a foreign one was refused). */
  parent: ProxyState | null;
}

export function decideStartRun(command: StartRunCommand, state: RunState | null, facts: StartRunFacts): [DistillationRunStarted] {
  const runId = requireRunId(command.runId, 'runId');
  if (!Array.isArray(command.queryIds) || command.queryIds.length === 0) {
    throw refuseRun('DISTILLATION.EMPTY_DATASET', 'A distillation run needs at least one query');
  }
  if (command.queryIds.length > MAX_DATASET_QUERIES) throw invalidRun('queryIds', `at most ${MAX_DATASET_QUERIES} queries`);
  const queryIds = command.queryIds.map((id, i) => requireRunId(id, `queryIds[${i}]`));
  const duplicate = firstDuplicate(queryIds);
  if (duplicate !== undefined) {
    throw refuseRun('DISTILLATION.DUPLICATE_QUERY', `Query ${duplicate} is listed twice`, { queryId: duplicate });
  }
  const parentProxyVersionId = command.parentProxyVersionId === null ? null : requireRunId(command.parentProxyVersionId, 'parentProxyVersionId');
  const student = {
    name: requireRunText(command.student?.name, 'student.name', MAX_NAME_LENGTH),
    architecture: requireRunText(command.student?.architecture, 'student.architecture', MAX_NAME_LENGTH),
    hyperparameters: command.student?.hyperparameters,
  };
  if (!isJsonObject(student.hyperparameters)) throw invalidRun('student.hyperparameters', 'must be a JSON object');
  const trainingDigest = requireRunDigest(command.trainingDigest, 'trainingDigest');

  // Run ids are generated per request; a collision would mean a broken id generator, never a client mistake.
  if (state !== null) throw refuseRun('DISTILLATION.ALREADY_EXISTS', `Distillation run ${runId} already exists`, { runId });

  const transcripts = queryIds.map((queryId) => {
    const query: QueryTranscript = facts.queries.get(queryId) ?? { status: 'none', entries: [] };
    const status = query.status;
    switch (status) {
      case 'none':
        throw refuseRun('DISTILLATION.QUERY_NOT_FOUND', `Query ${queryId} not found`, { queryId });
      case 'open':
        throw refuseRun('DISTILLATION.QUERY_NOT_COMPLETED', `Query ${queryId} is not completed`, { queryId });
      case 'stopped':
        throw refuseRun('DISTILLATION.QUERY_STOPPED', `Query ${queryId} is stopped; a stopped query is not training data`, { queryId });
      case 'completed':
        return { queryId, entries: query.entries };
      default: {
        const unreachable: never = status;
        return unreachable;
      }
    }
  });

  if (parentProxyVersionId !== null && facts.parent === null) {
    throw refuseRun('DISTILLATION.PARENT_NOT_FOUND', `Parent proxy ${parentProxyVersionId} not found`, { parentProxyVersionId });
  }

  return [
    {
      type: 'DistillationRunStarted',
      schema: 1,
      data: {
        runId,
        parentProxyVersionId,
        teacher: deriveTeacher(transcripts.map((t) => t.entries.map((e) => e.entry))),
        dataset: datasetRoot(transcripts),
        student: { name: student.name, architecture: student.architecture, hyperparameters: cloneJson(student.hyperparameters) },
        trainingDigest,
      },
    },
  ];
}
