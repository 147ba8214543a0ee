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

const num: SchemaObject = { type: 'number', nullable: true };
const proxyJob: SchemaObject = {
  type: 'object',
  properties: { proxyVersionId: { type: 'string' }, jobId: { type: 'string' } },
  required: ['proxyVersionId', 'jobId'],
};
const ASSIGNEE_SCHEMA: SchemaObject = {
  type: 'object',
  description: "{kind:'human'} | {kind:'proxy', proxyVersionId, jobId} | {kind:'ensemble', method:'majority', members:[{proxyVersionId, jobId}]}",
  properties: {
    kind: { type: 'string', enum: ['human', 'proxy', 'ensemble'] },
    proxyVersionId: { type: 'string' },
    jobId: { type: 'string' },
    method: { type: 'string', enum: ['majority'] },
    members: { type: 'array', items: proxyJob },
  },
  required: ['kind'],
};
const member: SchemaObject = {
  type: 'object',
  properties: { jobId: { type: 'string' }, proxyVersionId: { type: 'string' }, answer: { type: 'string' }, confidence: { type: 'number' } },
};

/** Written by hand: the node is recursive, which a self-contained OpenAPI 3.0 schema object cannot express. */
const NODE_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    nodeId: { type: 'string' },
    parentId: text,
    question: { type: 'string' },
    depth: { type: 'integer' },
    status: {
      type: 'string',
      enum: ['open', 'assigned', 'escalated', 'decomposed', 'answered'],
      description: 'assigned: proxy jobs pending or waiting for the assigned human; escalated: waiting for a human answer',
    },
    createdAt: time,
    createdBy: actor,
    answer: { ...text, description: 'The answer that counts now (last override, else the original)' },
    originalAnswer: { ...text, description: 'The first answer, kept as recorded' },
    currentAnswer: text,
    confidence: { ...num, description: "The original answer's confidence (human if stated, proxy, ensemble aggregate)" },
    answerKind: { type: 'string', enum: ['human', 'proxy', 'ensemble', 'composed'], nullable: true },
    answeredBy: { ...nullableActor, description: 'Who recorded the original answer' },
    answeredAt: { ...time, nullable: true },
    answerProxyVersionId: { ...text, description: 'The proxy version whose result is the original answer (kind proxy)' },
    answerJobId: text,
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
    assignee: { ...ASSIGNEE_SCHEMA, nullable: true, description: 'The current assignee' },
    assignments: {
      type: 'array',
      items: { type: 'object', properties: { assignee: ASSIGNEE_SCHEMA, by: actor, at: time } },
    },
    jobs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          jobId: { type: 'string' },
          proxyVersionId: { type: 'string' },
          artifactSha256: { type: 'string' },
          ensemble: { type: 'boolean' },
          status: { type: 'string', enum: ['pending', 'completed', 'abandoned'] },
          requestedBy: actor,
          requestedAt: time,
          result: {
            type: 'object',
            nullable: true,
            properties: { answer: { type: 'string' }, confidence: { type: 'number' }, output: {}, by: actor, at: time },
          },
          abandonedAt: { ...time, nullable: true },
        },
      },
    },
    escalations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          reason: { type: 'string', enum: ['low_confidence', 'requested'] },
          confidence: num,
          threshold: num,
          jobId: text,
          note: text,
          by: actor,
          at: time,
          resolvedAt: { ...time, nullable: true },
          resolvedBy: nullableActor,
        },
      },
    },
    aggregation: {
      type: 'object',
      nullable: true,
      description: "An ensemble's majority vote, recorded whether or not it reached the threshold",
      properties: {
        method: { type: 'string', enum: ['majority'] },
        members: { type: 'array', items: member },
        answer: { type: 'string' },
        confidence: { type: 'number' },
        by: actor,
        at: time,
      },
    },
    children: { type: 'array', items: { type: 'object', description: 'A node of this same shape' } },
  },
};

const limitSource: SchemaObject = { type: 'string', enum: ['request', 'taskClass', 'tenantDefault', 'unrecorded'] };

const TREE_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    queryId: { type: 'string' },
    tenant: { type: 'string' },
    task: { type: 'string' },
    input: { description: 'The JSON input given at open' },
    maxDepth: { type: 'integer' },
    confidenceThreshold: { type: 'number' },
    taskClass: text,
    limitSources: {
      type: 'object',
      description: "Where each limit came from; 'unrecorded' for queries opened before this was recorded",
      properties: { maxDepth: limitSource, confidenceThreshold: limitSource },
    },
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
