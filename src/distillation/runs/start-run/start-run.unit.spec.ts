import { describe, expect, it } from '@jest/globals';
import type { JsonObject } from '../../../ledger/entry.js';
import { datasetRoot } from '../../dataset-root.js';
import { alice, bob, completedQuery, givenProxy, givenRun, PARENT_ID, proxyEv, refusal, RUN_ID, runEv, transcript, TRAINING } from '../../distillation.test-kit.js';
import { rehydrateRun } from '../run.state.js';
import { decideStartRun, MAX_DATASET_QUERIES, type QueryTranscript, type StartRunCommand, type StartRunFacts } from './start-run.command.js';

const q1 = transcript('q-1', completedQuery('q-1', 'proxy-old'));
const q2 = transcript('q-2', [
  ...completedQuery('q-2', 'proxy-other').slice(0, 6),
  { type: 'HumanOverrideRecorded', data: { nodeId: 'n-1', answer: 'no', rationale: 'r', previousAnswer: 'yes' }, by: bob },
  { type: 'QueryCompleted', data: { answer: 'yes and no' } },
]);

const command = (over: Partial<StartRunCommand> = {}): StartRunCommand => ({
  runId: RUN_ID,
  queryIds: ['q-1', 'q-2'],
  parentProxyVersionId: null,
  student: { name: 'student-s', architecture: 'tiny-transformer', hyperparameters: { lr: 0.001, layers: [2, 2] } },
  trainingDigest: TRAINING,
  ...over,
});

const completed = (entries: QueryTranscript['entries']): QueryTranscript => ({ status: 'completed', entries });
const facts = (over: Partial<StartRunFacts> = {}): StartRunFacts => ({
  queries: new Map([
    ['q-1', completed(q1)],
    ['q-2', completed(q2)],
  ]),
  parent: null,
  ...over,
});

describe('start-run', () => {
  describe('given no run and two completed queries of the tenant', () => {
    it('when started, then DistillationRunStarted commits to every entry of both transcripts in order', () => {
      const [event] = decideStartRun(command(), null, facts());
      expect(event).toEqual({
        type: 'DistillationRunStarted',
        schema: 1,
        data: {
          runId: RUN_ID,
          parentProxyVersionId: null,
          teacher: { proxyVersionIds: ['proxy-old', 'proxy-other'], humanPool: ['alice', 'bob'] },
          dataset: datasetRoot([
            { queryId: 'q-1', entries: q1 },
            { queryId: 'q-2', entries: q2 },
          ]),
          student: { name: 'student-s', architecture: 'tiny-transformer', hyperparameters: { lr: 0.001, layers: [2, 2] } },
          trainingDigest: TRAINING,
        },
      });
      expect(event.data.dataset).toMatchObject({
        queryIds: ['q-1', 'q-2'],
        transcripts: [
          { queryId: 'q-1', entryCount: 7 },
          { queryId: 'q-2', entryCount: 8 },
        ],
        leafCount: 15,
      });
    });

    it('when the queries are listed the other way round, then the dataset root differs (order is part of the commitment)', () => {
      const [a] = decideStartRun(command(), null, facts());
      const [b] = decideStartRun(command({ queryIds: ['q-2', 'q-1'] }), null, facts());
      expect(a.data.dataset.transcriptRoot).not.toBe(b.data.dataset.transcriptRoot);
    });

    it('when started with a parent proxy of the tenant, then the parent is recorded', () => {
      const parent = givenProxy(proxyEv.registered({ proxyVersionId: PARENT_ID }));
      const [event] = decideStartRun(command({ parentProxyVersionId: PARENT_ID }), null, facts({ parent }));
      expect(event.data.parentProxyVersionId).toBe(PARENT_ID);
    });

    it('then the event evolves into a running run holding the commitment', () => {
      const [event] = decideStartRun(command(), null, facts());
      const run = rehydrateRun([{ ...event, meta: { tenant: 'tenant-a', actor: alice, recordedAt: '2026-03-01T00:00:00.000Z' }, revision: 0 }]);
      expect(run).toMatchObject({ runId: RUN_ID, status: 'running', dataset: event.data.dataset, teacher: event.data.teacher });
    });

    it('then the hyperparameters are a copy: changing the command afterwards changes nothing recorded', () => {
      const hyperparameters: JsonObject = { lr: 0.1 };
      const [event] = decideStartRun(command({ student: { name: 's', architecture: 'a', hyperparameters } }), null, facts());
      hyperparameters['lr'] = 9;
      expect(event.data.student.hyperparameters).toEqual({ lr: 0.1 });
    });
  });

  describe('refusals, nothing recorded', () => {
    it('when the dataset is empty, then DISTILLATION.EMPTY_DATASET (unprocessable)', () => {
      expect(refusal(() => decideStartRun(command({ queryIds: [] }), null, facts()))).toMatchObject({
        code: 'DISTILLATION.EMPTY_DATASET',
        category: 'unprocessable',
      });
    });

    it('when a query id is listed twice, then DISTILLATION.DUPLICATE_QUERY naming it', () => {
      expect(refusal(() => decideStartRun(command({ queryIds: ['q-1', 'q-2', 'q-1'] }), null, facts()))).toMatchObject({
        code: 'DISTILLATION.DUPLICATE_QUERY',
        category: 'unprocessable',
        details: { queryId: 'q-1' },
      });
    });

    it('when a query does not exist in the tenant, then DISTILLATION.QUERY_NOT_FOUND naming it', () => {
      expect(refusal(() => decideStartRun(command({ queryIds: ['q-1', 'q-9'] }), null, facts()))).toMatchObject({
        code: 'DISTILLATION.QUERY_NOT_FOUND',
        category: 'unprocessable',
        details: { queryId: 'q-9' },
      });
    });

    it('when a query is still open, then DISTILLATION.QUERY_NOT_COMPLETED (conflict)', () => {
      const queries = new Map([...facts().queries, ['q-2', { status: 'open' as const, entries: q2.slice(0, 3) }]]);
      expect(refusal(() => decideStartRun(command(), null, facts({ queries })))).toMatchObject({
        code: 'DISTILLATION.QUERY_NOT_COMPLETED',
        category: 'conflict',
        details: { queryId: 'q-2' },
      });
    });

    it('when a query was stopped (even after completion), then DISTILLATION.QUERY_STOPPED (conflict)', () => {
      const queries = new Map([...facts().queries, ['q-1', { status: 'stopped' as const, entries: q1 }]]);
      expect(refusal(() => decideStartRun(command(), null, facts({ queries })))).toMatchObject({
        code: 'DISTILLATION.QUERY_STOPPED',
        category: 'conflict',
        details: { queryId: 'q-1' },
      });
    });

    it('when the parent proxy does not exist in the tenant, then DISTILLATION.PARENT_NOT_FOUND', () => {
      expect(refusal(() => decideStartRun(command({ parentProxyVersionId: 'nope' }), null, facts()))).toMatchObject({
        code: 'DISTILLATION.PARENT_NOT_FOUND',
        category: 'unprocessable',
        details: { parentProxyVersionId: 'nope' },
      });
    });

    it('when the run id is already taken, then DISTILLATION.ALREADY_EXISTS', () => {
      expect(refusal(() => decideStartRun(command(), givenRun(runEv.started()), facts()))).toMatchObject({
        code: 'DISTILLATION.ALREADY_EXISTS',
        category: 'conflict',
      });
    });

    it.each<[string, Partial<StartRunCommand>, string]>([
      ['a blank student name', { student: { name: ' ', architecture: 'a', hyperparameters: {} } }, 'student.name'],
      ['a blank architecture', { student: { name: 's', architecture: '', hyperparameters: {} } }, 'student.architecture'],
      ['hyperparameters that are not a JSON object', { student: { name: 's', architecture: 'a', hyperparameters: [1] as never } }, 'student.hyperparameters'],
      ['a malformed training digest', { trainingDigest: 'sha256:XYZ' }, 'trainingDigest'],
      ['an empty query id', { queryIds: [''] }, 'queryIds[0]'],
      ['too many queries', { queryIds: Array.from({ length: MAX_DATASET_QUERIES + 1 }, (_, i) => `q-${i}`) }, 'queryIds'],
      ['an empty parent id', { parentProxyVersionId: '' }, 'parentProxyVersionId'],
    ])('when the command has %s, then DISTILLATION.INVALID_COMMAND naming the field', (_, over, field) => {
      expect(refusal(() => decideStartRun(command(over), null, facts()))).toMatchObject({
        code: 'DISTILLATION.INVALID_COMMAND',
        category: 'unprocessable',
        details: { field },
      });
    });
  });
});
