/**
 * Given/when/then helpers for the query specs. Not a spec itself (no `.spec` in the name) and free of Jest
 * imports, so it compiles with the rest of `src/` without pulling test globals in.
 */
import { isLedgerError, type LedgerError } from '../common/ledger-error.js';
import type { Actor, JsonValue } from '../ledger/entry.js';
import type {
  AmplificationQueryOpened,
  AmplificationQueryOpenedData,
  AnswerComposed,
  HumanAnswerRecorded,
  HumanOverrideRecorded,
  QueryCompleted,
  QueryEvent,
  QueryStopped,
  RecordedQueryEvent,
  SubqueriesDelegated,
} from './query.events.js';
import { replay, type QueryState } from './query.state.js';

export const TENANT = 'tenant-a';
export const QUERY_ID = 'q-1';
export const ROOT = 'n-root';
export const TASK = 'Is the proposed dosage safe for adults?';
export const pipeline: Actor = { sub: 'svc-orchestrator', role: 'pipeline' };
export const overseer: Actor = { sub: 'alice', role: 'overseer' };
export const otherOverseer: Actor = { sub: 'bob', role: 'overseer' };
/** recordedAt of revision r is T0 + r seconds, so a test can name the time of any event. */
export const T0 = Date.parse('2026-03-01T09:00:00.000Z');
export const at = (revision: number): string => new Date(T0 + revision * 1000).toISOString();

export const ev = {
  opened(data: Partial<AmplificationQueryOpenedData> = {}): AmplificationQueryOpened {
    const task = data.task ?? TASK;
    return {
      type: 'AmplificationQueryOpened',
      schema: 1,
      data: {
        queryId: QUERY_ID,
        rootNodeId: ROOT,
        task,
        input: { patient: 'adult' } as JsonValue,
        question: task,
        maxDepth: 3,
        confidenceThreshold: 0.7,
        ...data,
      },
    };
  },
  delegated(nodeId: string, children: Record<string, string>): SubqueriesDelegated {
    return {
      type: 'SubqueriesDelegated',
      schema: 1,
      data: { nodeId, children: Object.entries(children).map(([id, question]) => ({ nodeId: id, question })) },
    };
  },
  answered(nodeId: string, answer: string, confidence: number | null = null): HumanAnswerRecorded {
    return { type: 'HumanAnswerRecorded', schema: 1, data: { nodeId, answer, confidence } };
  },
  composed(nodeId: string, answer: string): AnswerComposed {
    return { type: 'AnswerComposed', schema: 1, data: { nodeId, answer } };
  },
  overridden(nodeId: string, answer: string, rationale: string, previousAnswer: string): HumanOverrideRecorded {
    return { type: 'HumanOverrideRecorded', schema: 1, data: { nodeId, answer, rationale, previousAnswer } };
  },
  completed(answer: string): QueryCompleted {
    return { type: 'QueryCompleted', schema: 1, data: { answer } };
  },
  stopped(reason: string, previousStatus: 'open' | 'completed'): QueryStopped {
    return { type: 'QueryStopped', schema: 1, data: { reason, previousStatus } };
  },
};

/** An event as a test states it: bare (default actor), or with an explicit actor. */
export type Given = QueryEvent | { event: QueryEvent; by: Actor };

/** Humans answer, override and stop; the pipeline does the rest. */
function defaultActor(event: QueryEvent): Actor {
  switch (event.type) {
    case 'HumanAnswerRecorded':
    case 'HumanOverrideRecorded':
    case 'QueryStopped':
      return overseer;
    case 'AmplificationQueryOpened':
    case 'SubqueriesDelegated':
    case 'AnswerComposed':
    case 'QueryCompleted':
      return pipeline;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/** Records events as the store would: revision 0, 1, ..., recordedAt = at(revision), tenant TENANT. */
export function record(givens: readonly Given[], tenant = TENANT): RecordedQueryEvent[] {
  return givens.map((given, revision) => {
    const { event, by } = 'event' in given ? given : { event: given, by: defaultActor(given) };
    return { ...event, meta: { tenant, actor: by, recordedAt: at(revision) }, revision } as RecordedQueryEvent;
  });
}

export function given(...givens: Given[]): QueryState {
  return replay(record(givens));
}

/** Deterministic `newId` for deciders. */
export function sequentialIds(prefix = 'n'): { newId: () => string } {
  let next = 1;
  return { newId: () => `${prefix}-${next++}` };
}

/** Runs a decider expected to refuse and returns the LedgerError; a success or a foreign error fails the test. */
export function refusal(decide: () => unknown): LedgerError {
  let result: unknown;
  try {
    result = decide();
  } catch (error) {
    if (isLedgerError(error)) return error;
    throw error;
  }
  throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
}

/** Common histories. */
export const history = {
  /** Root opened, not yet decomposed. */
  opened: (): Given[] => [ev.opened()],
  /** Root decomposed into n-1, n-2. */
  decomposed: (): Given[] => [ev.opened(), ev.delegated(ROOT, { 'n-1': 'Dose within label?', 'n-2': 'Interactions?' })],
  /** Both children answered by the overseer, root composed. */
  composed: (): Given[] => [
    ...history.decomposed(),
    ev.answered('n-1', 'yes', 0.9),
    ev.answered('n-2', 'none known', 0.6),
    ev.composed(ROOT, 'safe'),
  ],
  completed: (): Given[] => [...history.composed(), ev.completed('safe')],
  stoppedWhileOpen: (): Given[] => [...history.decomposed(), ev.stopped('budget exhausted', 'open')],
  stoppedAfterCompletion: (): Given[] => [...history.completed(), ev.stopped('withdrawn', 'completed')],
};
