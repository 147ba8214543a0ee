/**
 * The amplification bounded context (DESIGN §3): queries, nodes, decomposition, assignment to humans and
 * proxies (through the policy gate), escalation, answers, overrides. Inference results arrive through
 * src/inference (granted workers), which reuses this context's result decider.
 * Expects EVENT_STORE, CLOCK and ID_GENERATOR to be provided globally by the app, and the global AuthGuard and
 * problem+json filter to be registered there too.
 */
import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AssignNodeController } from './assign-node/assign-node.controller.js';
import { AssignNodeHandler } from './assign-node/assign-node.handler.js';
import { EscalateNodeController } from './escalate-node/escalate-node.controller.js';
import { EscalateNodeHandler } from './escalate-node/escalate-node.handler.js';
import { AnswerNodeController } from './answer-node/answer-node.controller.js';
import { AnswerNodeHandler } from './answer-node/answer-node.handler.js';
import { CompleteQueryController } from './complete-query/complete-query.controller.js';
import { CompleteQueryHandler } from './complete-query/complete-query.handler.js';
import { ComposeAnswerController } from './compose-answer/compose-answer.controller.js';
import { ComposeAnswerHandler } from './compose-answer/compose-answer.handler.js';
import { DecomposeNodeController } from './decompose-node/decompose-node.controller.js';
import { DecomposeNodeHandler } from './decompose-node/decompose-node.handler.js';
import { GetDecisionTreeController } from './get-decision-tree/get-decision-tree.controller.js';
import { GetDecisionTreeHandler } from './get-decision-tree/get-decision-tree.query.js';
import { OpenQueryController } from './open-query/open-query.controller.js';
import { OpenQueryHandler } from './open-query/open-query.handler.js';
import { OverrideAnswerController } from './override-answer/override-answer.controller.js';
import { OverrideAnswerHandler } from './override-answer/override-answer.handler.js';
import { QueryCommandRunner } from './query-command.runner.js';
import { StopQueryController } from './stop-query/stop-query.controller.js';
import { StopQueryHandler } from './stop-query/stop-query.handler.js';

@Module({
  imports: [CqrsModule],
  controllers: [
    OpenQueryController,
    GetDecisionTreeController,
    DecomposeNodeController,
    AssignNodeController,
    EscalateNodeController,
    AnswerNodeController,
    ComposeAnswerController,
    OverrideAnswerController,
    CompleteQueryController,
    StopQueryController,
  ],
  providers: [
    QueryCommandRunner,
    OpenQueryHandler,
    DecomposeNodeHandler,
    AssignNodeHandler,
    EscalateNodeHandler,
    AnswerNodeHandler,
    ComposeAnswerHandler,
    OverrideAnswerHandler,
    CompleteQueryHandler,
    StopQueryHandler,
    GetDecisionTreeHandler,
  ],
  exports: [QueryCommandRunner],
})
export class AmplificationModule {}
