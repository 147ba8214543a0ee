import { describe, expect, it } from '@jest/globals';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../tenants/tenant-settings.js';
import { evolve, initialQueryState } from '../query.state.js';
import { ev, given, history, QUERY_ID, record, refusal, ROOT, settings, TASK } from '../query.test-kit.js';
import { decideOpenQuery, MAX_MAX_DEPTH, MAX_TASK_LENGTH, type OpenQueryCommand } from './open-query.command.js';

const command = (over: Partial<OpenQueryCommand> = {}): OpenQueryCommand => ({
  queryId: QUERY_ID,
  rootNodeId: ROOT,
  task: TASK,
  input: { patient: 'adult' },
  ...over,
});
const open = (over: Partial<OpenQueryCommand> = {}, tenantSettings: TenantSettings = settings) =>
  decideOpenQuery(command(over), initialQueryState, tenantSettings);

describe('open-query', () => {
  describe('given no stream and the tenant never set its settings', () => {
    it('when opened without limits, then AmplificationQueryOpened (schema 3) with the default settings, sourced tenantDefault', () => {
      const { defaultMaxDepth, defaultConfidenceThreshold } = DEFAULT_TENANT_SETTINGS.amplification;
      expect(open({}, DEFAULT_TENANT_SETTINGS)).toEqual([
        ev.opened({
          maxDepth: defaultMaxDepth,
          confidenceThreshold: defaultConfidenceThreshold,
          limitSources: { maxDepth: 'tenantDefault', confidenceThreshold: 'tenantDefault' },
        }),
      ]);
      expect(open({}, DEFAULT_TENANT_SETTINGS)[0].schema).toBe(3);
      expect(open({}, DEFAULT_TENANT_SETTINGS)[0].data.dataClassification).toBe('internal');
      expect(open({ dataClassification: 'restricted' }, DEFAULT_TENANT_SETTINGS)[0].data.dataClassification).toBe('restricted');
    });
  });

  describe('given no stream and tenant settings with defaults 5 / 0.6 and task classes triage (2 / 0.9) and shallow (1 / -)', () => {
    it('when opened without limits or task class, then the tenant defaults', () => {
      expect(open()[0].data).toMatchObject({
        maxDepth: 5,
        confidenceThreshold: 0.6,
        taskClass: null,
        limitSources: { maxDepth: 'tenantDefault', confidenceThreshold: 'tenantDefault' },
      });
    });

    it('when opened with a task class, then its limits, sourced taskClass', () => {
      expect(open({ taskClass: 'triage' })[0].data).toMatchObject({
        maxDepth: 2,
        confidenceThreshold: 0.9,
        taskClass: 'triage',
        limitSources: { maxDepth: 'taskClass', confidenceThreshold: 'taskClass' },
      });
    });

    it('when the task class sets only one limit, then the other comes from the tenant default', () => {
      expect(open({ taskClass: 'shallow' })[0].data).toMatchObject({
        maxDepth: 1,
        confidenceThreshold: 0.6,
        limitSources: { maxDepth: 'taskClass', confidenceThreshold: 'tenantDefault' },
      });
    });

    it('when the request states a limit, then it wins over the task class, and only that one is sourced request', () => {
      expect(open({ taskClass: 'triage', confidenceThreshold: 0.5 })[0].data).toMatchObject({
        maxDepth: 2,
        confidenceThreshold: 0.5,
        limitSources: { maxDepth: 'taskClass', confidenceThreshold: 'request' },
      });
    });

    it('when opened with explicit limits, then they are recorded, sourced request', () => {
      const [event] = open({ maxDepth: MAX_MAX_DEPTH, confidenceThreshold: 0 });
      expect(event.data).toMatchObject({
        maxDepth: MAX_MAX_DEPTH,
        confidenceThreshold: 0,
        limitSources: { maxDepth: 'request', confidenceThreshold: 'request' },
      });
      const [edge] = open({ maxDepth: 1, confidenceThreshold: 1 });
      expect(edge.data).toMatchObject({ maxDepth: 1, confidenceThreshold: 1 });
    });

    it('when the input is null or nested JSON, then it is recorded as given', () => {
      expect(open({ input: null })[0].data.input).toBeNull();
      const input = { a: [1, 'two', { b: false }], c: null };
      expect(open({ input })[0].data.input).toEqual(input);
    });

    it('when the task is exactly 4000 characters, then it is accepted', () => {
      const task = 'x'.repeat(MAX_TASK_LENGTH);
      expect(open({ task })[0].data).toMatchObject({ task, question: task });
    });

    it('then the event evolves into an open query whose root is the task, with the limits and their sources', () => {
      const [event] = open({ taskClass: 'triage' });
      const state = evolve(initialQueryState, record([event])[0]);
      expect(state).toMatchObject({
        status: 'open',
        queryId: QUERY_ID,
        rootNodeId: ROOT,
        maxDepth: 2,
        confidenceThreshold: 0.9,
        taskClass: 'triage',
        limitSources: { maxDepth: 'taskClass', confidenceThreshold: 'taskClass' },
      });
      expect(state.nodes.get(ROOT)).toMatchObject({ question: TASK, depth: 0, parentId: null });
    });

    it.each(['toString', '__proto__', 'constructor', 'Triage', 'unknown'])(
      'when opened with task class %j, which the settings do not define, then QUERY.UNKNOWN_TASK_CLASS (422)',
      (taskClass) => {
        expect(refusal(() => open({ taskClass }))).toMatchObject({
          code: 'QUERY.UNKNOWN_TASK_CLASS',
          category: 'unprocessable',
          details: { taskClass },
        });
      },
    );

    it('when a task class is named and limits are given too, then the class must still exist', () => {
      expect(refusal(() => open({ taskClass: 'nope', maxDepth: 2, confidenceThreshold: 0.5 }))).toMatchObject({
        code: 'QUERY.UNKNOWN_TASK_CLASS',
      });
    });

    it.each<[string, Partial<OpenQueryCommand>, string]>([
      ['blank task', { task: '   ' }, 'task'],
      ['empty task', { task: '' }, 'task'],
      ['task over 4000 characters', { task: 'x'.repeat(MAX_TASK_LENGTH + 1) }, 'task'],
      ['maxDepth 0', { maxDepth: 0 }, 'maxDepth'],
      ['maxDepth above the limit', { maxDepth: MAX_MAX_DEPTH + 1 }, 'maxDepth'],
      ['fractional maxDepth', { maxDepth: 2.5 }, 'maxDepth'],
      ['threshold below 0', { confidenceThreshold: -0.1 }, 'confidenceThreshold'],
      ['threshold above 1', { confidenceThreshold: 1.1 }, 'confidenceThreshold'],
      ['NaN threshold', { confidenceThreshold: Number.NaN }, 'confidenceThreshold'],
      ['blank task class', { taskClass: ' ' }, 'taskClass'],
      ['missing input', { input: undefined }, 'input'],
      ['non-JSON input', { input: { at: new Date() } as never }, 'input'],
      ['non-finite number in input', { input: [Number.POSITIVE_INFINITY] }, 'input'],
      ['empty query id', { queryId: '' }, 'queryId'],
      ['empty root node id', { rootNodeId: '' }, 'rootNodeId'],
    ])('when the command has %s, then QUERY.INVALID_COMMAND naming the field', (_, over, field) => {
      expect(refusal(() => open(over))).toMatchObject({
        code: 'QUERY.INVALID_COMMAND',
        category: 'unprocessable',
        details: { field },
      });
    });
  });

  describe('given the query already exists', () => {
    it('when opened again, then QUERY.ALREADY_EXISTS (conflict)', () => {
      expect(refusal(() => decideOpenQuery(command(), given(...history.opened()), settings))).toMatchObject({
        code: 'QUERY.ALREADY_EXISTS',
        category: 'conflict',
      });
    });

    it('when the existing query is stopped, then still QUERY.ALREADY_EXISTS (ids are never reused)', () => {
      expect(refusal(() => decideOpenQuery(command(), given(...history.stoppedWhileOpen()), settings))).toMatchObject({
        code: 'QUERY.ALREADY_EXISTS',
      });
    });

    it('when opened again with an unknown task class, then QUERY.UNKNOWN_TASK_CLASS first (the command is wrong whatever the state)', () => {
      expect(refusal(() => decideOpenQuery(command({ taskClass: 'nope' }), given(...history.opened()), settings))).toMatchObject({
        code: 'QUERY.UNKNOWN_TASK_CLASS',
      });
    });
  });
});
