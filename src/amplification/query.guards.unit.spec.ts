import { describe, expect, it } from '@jest/globals';
import type { TenantSettings } from '../tenants/tenant-settings.js';
import { decideAnswerNode, type AnswerNodeCommand } from './answer-node/answer-node.command.js';
import { decideAssignNode, type AssignNodeCommand, type GateDecisions } from './assign-node/assign-node.command.js';
import { decideEscalateNode, type EscalateNodeCommand } from './escalate-node/escalate-node.command.js';
import type { ProxySnapshot } from './proxy-snapshot.js';
import type { QueryDecideContext } from './query.guards.js';
import {
  decideRecordInferenceResult,
  type RecordInferenceResultCommand,
} from './record-inference-result/record-inference-result.command.js';
import { decideCompleteQuery, type CompleteQueryCommand } from './complete-query/complete-query.command.js';
import { decideComposeAnswer, type ComposeAnswerCommand } from './compose-answer/compose-answer.command.js';
import { decideDecomposeNode, type DecomposeNodeCommand } from './decompose-node/decompose-node.command.js';
import { decideOpenQuery, type OpenQueryCommand } from './open-query/open-query.command.js';
import { decideOverrideAnswer, type OverrideAnswerCommand } from './override-answer/override-answer.command.js';
import { QUERY_REFUSALS, refuse, type QueryDecider } from './query.guards.js';
import { decideStopQuery, type StopQueryCommand } from './stop-query/stop-query.command.js';

// Compile-time: one generic handler can drive every decider; what a decider needs besides command and state
// (tenant settings, proxy snapshots) is spelled out in its type.
const deciders: [
  QueryDecider<OpenQueryCommand, [settings: TenantSettings]>,
  QueryDecider<DecomposeNodeCommand>,
  QueryDecider<AssignNodeCommand, [proxies: ReadonlyMap<string, ProxySnapshot>, decisions: GateDecisions, ctx: QueryDecideContext]>,
  QueryDecider<RecordInferenceResultCommand>,
  QueryDecider<EscalateNodeCommand>,
  QueryDecider<AnswerNodeCommand>,
  QueryDecider<ComposeAnswerCommand>,
  QueryDecider<OverrideAnswerCommand>,
  QueryDecider<CompleteQueryCommand>,
  QueryDecider<StopQueryCommand>,
] = [
  decideOpenQuery,
  decideDecomposeNode,
  decideAssignNode,
  decideRecordInferenceResult,
  decideEscalateNode,
  decideAnswerNode,
  decideComposeAnswer,
  decideOverrideAnswer,
  decideCompleteQuery,
  decideStopQuery,
];

describe('query refusals', () => {
  it('every decider fits QueryDecider', () => {
    expect(deciders).toHaveLength(10);
  });

  it('the stable codes keep the categories the API documents', () => {
    expect(QUERY_REFUSALS).toMatchObject({
      'QUERY.ALREADY_EXISTS': 'conflict',
      'QUERY.NOT_FOUND': 'not_found',
      'QUERY.NODE_NOT_FOUND': 'not_found',
      'QUERY.MAX_DEPTH_EXCEEDED': 'unprocessable',
      'QUERY.RATIONALE_REQUIRED': 'unprocessable',
      'QUERY.OVERRIDE_UNCHANGED': 'unprocessable',
      'QUERY.CHILDREN_UNANSWERED': 'conflict',
      'QUERY.STOPPED': 'conflict',
      'QUERY.COMPLETED': 'conflict',
      'QUERY.UNKNOWN_TASK_CLASS': 'unprocessable',
      'QUERY.NODE_ALREADY_ASSIGNED': 'conflict',
      'QUERY.NODE_ESCALATED': 'conflict',
      'QUERY.NODE_ALREADY_ESCALATED': 'conflict',
      'QUERY.NODE_AWAITING_INFERENCE': 'conflict',
      'QUERY.CHILD_ESCALATED': 'conflict',
      'QUERY.PROXY_NOT_FOUND': 'unprocessable',
      'QUERY.PROXY_NOT_SERVING': 'conflict',
      'QUERY.JOB_ID_CONFLICT': 'conflict',
      'QUERY.JOB_NOT_FOUND': 'unprocessable',
      'QUERY.JOB_PROXY_MISMATCH': 'unprocessable',
      'QUERY.JOB_NOT_PENDING': 'conflict',
    });
  });

  it('refuse builds a LedgerError with the category and HTTP status of its code', () => {
    const error = refuse('QUERY.CHILDREN_UNANSWERED', 'x', { unansweredChildIds: ['a'] });
    expect(error).toMatchObject({ code: 'QUERY.CHILDREN_UNANSWERED', category: 'conflict', status: 409 });
    expect(error.details).toEqual({ unansweredChildIds: ['a'] });
  });
});
