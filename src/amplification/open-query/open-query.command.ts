/**
 * Open an amplification query: the task becomes the root node's question. Its limits come from the request,
 * else the task class of the tenant's settings, else the tenant's defaults; the event records which.
 */
import { isJsonValue } from '../../common/domain-values.js';
import type { JsonValue } from '../../ledger/entry.js';
import { MAX_DEPTH_LIMIT, type TenantSettings } from '../../tenants/tenant-settings.js';
import {
  DATA_CLASSIFICATIONS,
  DEFAULT_DATA_CLASSIFICATION,
  QUERY_OPENED_SCHEMA,
  type AmplificationQueryOpened,
  type DataClassification,
  type LimitSource,
} from '../query.events.js';
import { invalid, refuse, requireId, requireText, requireUnitInterval } from '../query.guards.js';
import type { QueryState } from '../query.state.js';

export interface OpenQueryCommand {
  queryId: string;
  rootNodeId: string;
  task: string;
  input: JsonValue;
  /** A task class of the tenant's settings; its limits apply where the request states none. */
  taskClass?: string;
  /** Integer 1..MAX_MAX_DEPTH. Bounds the recursion so one query cannot fan out without limit. */
  maxDepth?: number;
  /** 0..1. Proxy answers below it are escalated to a human. */
  confidenceThreshold?: number;
  /** How sensitive the query's data is (the policy gate's context); default `internal`. */
  dataClassification?: DataClassification;
}

export const MAX_TASK_LENGTH = 4000;
/** A request may not ask for more depth than the tenant's settings could grant. */
export const MAX_MAX_DEPTH = MAX_DEPTH_LIMIT;
export const MAX_TASK_CLASS_LENGTH = 100;

/** Pure: the tenant's settings are read by the handler and passed in. */
export function decideOpenQuery(
  command: OpenQueryCommand,
  state: QueryState,
  settings: TenantSettings,
): [AmplificationQueryOpened] {
  const queryId = requireId(command.queryId, 'queryId');
  const rootNodeId = requireId(command.rootNodeId, 'rootNodeId');
  const task = requireText(command.task, 'task', MAX_TASK_LENGTH);
  // `undefined` is not JSON: the input must be stated, even if only as null.
  if (command.input === undefined || !isJsonValue(command.input)) throw invalid('input', 'must be a JSON value');
  if (command.maxDepth !== undefined) requireDepth(command.maxDepth, 'maxDepth');
  if (command.confidenceThreshold !== undefined) requireUnitInterval(command.confidenceThreshold, 'confidenceThreshold');
  const taskClass = command.taskClass === undefined ? null : requireText(command.taskClass, 'taskClass', MAX_TASK_CLASS_LENGTH);
  const dataClassification = command.dataClassification ?? DEFAULT_DATA_CLASSIFICATION;
  if (!DATA_CLASSIFICATIONS.includes(dataClassification)) {
    throw invalid('dataClassification', `must be one of ${DATA_CLASSIFICATIONS.join(', ')}`);
  }

  const amplification = settings.amplification;
  // Own property only: a task class named `__proto__` or `toString` must not resolve to Object.prototype.
  if (taskClass !== null && !Object.prototype.hasOwnProperty.call(amplification.taskClasses, taskClass)) {
    throw refuse('QUERY.UNKNOWN_TASK_CLASS', `Task class ${taskClass} is not defined in the tenant's settings`, { taskClass });
  }
  const limits = taskClass === null ? undefined : amplification.taskClasses[taskClass];
  const [maxDepth, maxDepthSource] = pick(command.maxDepth, limits?.maxDepth, amplification.defaultMaxDepth);
  const [confidenceThreshold, thresholdSource] = pick(
    command.confidenceThreshold,
    limits?.confidenceThreshold,
    amplification.defaultConfidenceThreshold,
  );
  // Settings are validated where they are written; checked again so a bad value can never reach the log.
  requireDepth(maxDepth, 'maxDepth');
  requireUnitInterval(confidenceThreshold, 'confidenceThreshold');

  // Even a stopped query keeps its stream: ids are never reused, so the history stays unambiguous.
  if (state.status !== 'none') throw refuse('QUERY.ALREADY_EXISTS', `Query ${queryId} already exists`, { queryId });

  return [
    {
      type: 'AmplificationQueryOpened',
      schema: QUERY_OPENED_SCHEMA,
      data: {
        queryId,
        rootNodeId,
        task,
        input: command.input,
        question: task,
        maxDepth,
        confidenceThreshold,
        taskClass,
        limitSources: { maxDepth: maxDepthSource, confidenceThreshold: thresholdSource },
        dataClassification,
      },
    },
  ];
}

function pick(requested: number | undefined, fromClass: number | undefined, tenantDefault: number): [number, LimitSource] {
  if (requested !== undefined) return [requested, 'request'];
  if (fromClass !== undefined) return [fromClass, 'taskClass'];
  return [tenantDefault, 'tenantDefault'];
}

function requireDepth(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_MAX_DEPTH) {
    throw invalid(field, `must be an integer between 1 and ${MAX_MAX_DEPTH}`);
  }
  return value;
}
