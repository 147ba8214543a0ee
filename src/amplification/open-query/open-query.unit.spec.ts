import { describe, expect, it } from '@jest/globals';
import { evolve, initialQueryState } from '../query.state.js';
import { ev, given, history, QUERY_ID, record, refusal, ROOT, TASK } from '../query.test-kit.js';
import { decideOpenQuery, MAX_TASK_LENGTH, type OpenQueryCommand } from './open-query.command.js';

const command = (over: Partial<OpenQueryCommand> = {}): OpenQueryCommand => ({
  queryId: QUERY_ID,
  rootNodeId: ROOT,
  task: TASK,
  input: { patient: 'adult' },
  ...over,
});

describe('open-query', () => {
  describe('given no stream', () => {
    it('when opened with defaults, then AmplificationQueryOpened with maxDepth 3, threshold 0.7 and the task as root question', () => {
      expect(decideOpenQuery(command(), initialQueryState)).toEqual([ev.opened()]);
    });

    it('when opened with explicit limits, then they are recorded', () => {
      const [event] = decideOpenQuery(command({ maxDepth: 16, confidenceThreshold: 0 }), initialQueryState);
      expect(event.data).toMatchObject({ maxDepth: 16, confidenceThreshold: 0 });
      const [edge] = decideOpenQuery(command({ maxDepth: 1, confidenceThreshold: 1 }), initialQueryState);
      expect(edge.data).toMatchObject({ maxDepth: 1, confidenceThreshold: 1 });
    });

    it('when the input is null or nested JSON, then it is recorded as given', () => {
      expect(decideOpenQuery(command({ input: null }), initialQueryState)[0].data.input).toBeNull();
      const input = { a: [1, 'two', { b: false }], c: null };
      expect(decideOpenQuery(command({ input }), initialQueryState)[0].data.input).toEqual(input);
    });

    it('when the task is exactly 4000 characters, then it is accepted', () => {
      const task = 'x'.repeat(MAX_TASK_LENGTH);
      expect(decideOpenQuery(command({ task }), initialQueryState)[0].data).toMatchObject({ task, question: task });
    });

    it('then the event evolves into an open query whose root is the task', () => {
      const [event] = decideOpenQuery(command(), initialQueryState);
      const state = evolve(initialQueryState, record([event])[0]);
      expect(state).toMatchObject({ status: 'open', queryId: QUERY_ID, rootNodeId: ROOT, maxDepth: 3 });
      expect(state.nodes.get(ROOT)).toMatchObject({ question: TASK, depth: 0, parentId: null });
    });

    it.each<[string, Partial<OpenQueryCommand>, string]>([
      ['blank task', { task: '   ' }, 'task'],
      ['empty task', { task: '' }, 'task'],
      ['task over 4000 characters', { task: 'x'.repeat(MAX_TASK_LENGTH + 1) }, 'task'],
      ['maxDepth 0', { maxDepth: 0 }, 'maxDepth'],
      ['maxDepth 17', { maxDepth: 17 }, 'maxDepth'],
      ['fractional maxDepth', { maxDepth: 2.5 }, 'maxDepth'],
      ['threshold below 0', { confidenceThreshold: -0.1 }, 'confidenceThreshold'],
      ['threshold above 1', { confidenceThreshold: 1.1 }, 'confidenceThreshold'],
      ['NaN threshold', { confidenceThreshold: Number.NaN }, 'confidenceThreshold'],
      ['missing input', { input: undefined }, 'input'],
      ['non-JSON input', { input: { at: new Date() } as never }, 'input'],
      ['non-finite number in input', { input: [Number.POSITIVE_INFINITY] }, 'input'],
      ['empty query id', { queryId: '' }, 'queryId'],
      ['empty root node id', { rootNodeId: '' }, 'rootNodeId'],
    ])('when the command has %s, then QUERY.INVALID_COMMAND naming the field', (_, over, field) => {
      expect(refusal(() => decideOpenQuery(command(over), initialQueryState))).toMatchObject({
        code: 'QUERY.INVALID_COMMAND',
        category: 'unprocessable',
        details: { field },
      });
    });
  });

  describe('given the query already exists', () => {
    it('when opened again, then QUERY.ALREADY_EXISTS (conflict)', () => {
      expect(refusal(() => decideOpenQuery(command(), given(...history.opened())))).toMatchObject({
        code: 'QUERY.ALREADY_EXISTS',
        category: 'conflict',
      });
    });

    it('when the existing query is stopped, then still QUERY.ALREADY_EXISTS (ids are never reused)', () => {
      expect(refusal(() => decideOpenQuery(command(), given(...history.stoppedWhileOpen())))).toMatchObject({
        code: 'QUERY.ALREADY_EXISTS',
      });
    });
  });
});
