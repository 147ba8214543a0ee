import { describe, expect, it } from '@jest/globals';
import { decideAnswerNode, type AnswerNodeCommand } from './answer-node/answer-node.command.js';
import { decideCompleteQuery, type CompleteQueryCommand } from './complete-query/complete-query.command.js';
import { decideComposeAnswer, type ComposeAnswerCommand } from './compose-answer/compose-answer.command.js';
import { decideDecomposeNode, type DecomposeNodeCommand } from './decompose-node/decompose-node.command.js';
import { decideOpenQuery, type OpenQueryCommand } from './open-query/open-query.command.js';
import { decideOverrideAnswer, type OverrideAnswerCommand } from './override-answer/override-answer.command.js';
import { QUERY_REFUSALS, refuse, type QueryDecider } from './query.guards.js';
import { decideStopQuery, type StopQueryCommand } from './stop-query/stop-query.command.js';

// Compile-time: one generic handler can drive every decider.
const deciders: [
  QueryDecider<OpenQueryCommand>,
  QueryDecider<DecomposeNodeCommand>,
  QueryDecider<AnswerNodeCommand>,
  QueryDecider<ComposeAnswerCommand>,
  QueryDecider<OverrideAnswerCommand>,
  QueryDecider<CompleteQueryCommand>,
  QueryDecider<StopQueryCommand>,
] = [
  decideOpenQuery,
  decideDecomposeNode,
  decideAnswerNode,
  decideComposeAnswer,
  decideOverrideAnswer,
  decideCompleteQuery,
  decideStopQuery,
];

describe('query refusals', () => {
  it('every decider fits QueryDecider', () => {
    expect(deciders).toHaveLength(7);
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
    });
  });

  it('refuse builds a LedgerError with the category and HTTP status of its code', () => {
    const error = refuse('QUERY.CHILDREN_UNANSWERED', 'x', { unansweredChildIds: ['a'] });
    expect(error).toMatchObject({ code: 'QUERY.CHILDREN_UNANSWERED', category: 'conflict', status: 409 });
    expect(error.details).toEqual({ unansweredChildIds: ['a'] });
  });
});
