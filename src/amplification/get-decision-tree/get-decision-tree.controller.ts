/** `GET /v1/queries/:queryId`: the decision tree, with who answered what and when, and every override. */
import { Controller, Get, Param, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags, type SchemaObject } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import { ApiProblems, etagOf } from '../query.http.js';
import type { DecisionTree } from '../query.state.js';
import { GetDecisionTree } from './get-decision-tree.query.js';

const actor: SchemaObject = {
  type: 'object',
  properties: { sub: { type: 'string' }, role: { type: 'string' } },
  required: ['sub', 'role'],
};
const nullableActor: SchemaObject = { ...actor, nullable: true };
const text: SchemaObject = { type: 'string', nullable: true };
const time: SchemaObject = { type: 'string', format: 'date-time' };

/** Written by hand: the node is recursive, which a self-contained OpenAPI 3.0 schema object cannot express. */
const NODE_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    nodeId: { type: 'string' },
    parentId: text,
    question: { type: 'string' },
    depth: { type: 'integer' },
    status: { type: 'string', enum: ['open', 'decomposed', 'answered'] },
    createdAt: time,
    createdBy: actor,
    answer: { ...text, description: 'The answer that counts now (last override, else the original)' },
    originalAnswer: { ...text, description: 'The first answer, kept as recorded' },
    currentAnswer: text,
    confidence: { type: 'number', nullable: true },
    answerKind: { type: 'string', enum: ['human', 'composed'], nullable: true },
    answeredBy: { ...nullableActor, description: 'Who gave the original answer' },
    answeredAt: { ...time, nullable: true },
    overridden: { type: 'boolean' },
    overrides: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          answer: { type: 'string' },
          rationale: { type: 'string' },
          previousAnswer: { type: 'string' },
          by: actor,
          at: time,
        },
      },
    },
    children: { type: 'array', items: { type: 'object', description: 'A node of this same shape' } },
  },
};

const TREE_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    queryId: { type: 'string' },
    tenant: { type: 'string' },
    task: { type: 'string' },
    input: { description: 'The JSON input given at open' },
    maxDepth: { type: 'integer' },
    confidenceThreshold: { type: 'number' },
    status: { type: 'string', enum: ['open', 'completed', 'stopped'] },
    revision: { type: 'integer', description: 'Revision of the last query event applied' },
    openedAt: time,
    openedBy: actor,
    completedAt: { ...time, nullable: true },
    completedBy: nullableActor,
    completedAnswer: text,
    stoppedAt: { ...time, nullable: true },
    stoppedBy: nullableActor,
    stopReason: text,
    nodeCount: { type: 'integer' },
    root: NODE_SCHEMA,
  },
};

@ApiTags('amplification')
@ApiBearerAuth()
@Controller('v1/queries')
export class GetDecisionTreeController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get(':queryId')
  @Roles('pipeline', 'overseer', 'auditor', 'compliance', 'admin')
  @ApiOperation({ summary: 'The decision tree of a query, rebuilt from its stream' })
  @ApiResponse({
    status: 200,
    description: 'The tree; `ETag` is the stream revision to send as `If-Match`',
    schema: TREE_SCHEMA,
    headers: { ETag: { description: 'Strong ETag of the stream revision, e.g. "7"', schema: { type: 'string' } } },
  })
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched the ETag)' })
  @ApiProblems('AUTH.TENANT_FORBIDDEN', 'QUERY.NOT_FOUND')
  async get(
    @Param('queryId') queryId: string,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<DecisionTree> {
    const { tree, streamRevision } = await this.queryBus.execute(new GetDecisionTree(principal, queryId));
    // Express answers 304 by itself when If-None-Match names this ETag.
    response.setHeader('ETag', etagOf(streamRevision));
    response.setHeader('Cache-Control', 'private, no-cache');
    return tree;
  }
}
