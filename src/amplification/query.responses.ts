/**
 * Response bodies of the amplification commands, as zod schemas so OpenAPI documents them from one source.
 * Every command answers `{queryId, revision, ...}`; `revision` is the stream revision after the command, the
 * value a client sends back in `If-Match`.
 */
import { z } from 'zod';

const revision = z.number().int().min(0).describe('Stream revision after the command (also sent as ETag)');
const id = z.string().describe('UUID v7');

export const NodeCommandResponseSchema = z.object({ queryId: id, nodeId: id, revision });
export type NodeCommandResponse = z.infer<typeof NodeCommandResponseSchema>;

export const OpenQueryResponseSchema = z.object({ queryId: id, rootNodeId: id, revision });
export type OpenQueryResponse = z.infer<typeof OpenQueryResponseSchema>;

export const DecomposeNodeResponseSchema = z.object({
  queryId: id,
  nodeId: id,
  childNodeIds: z.array(id).describe('New child node ids, in the order of the subquestions'),
  revision,
});
export type DecomposeNodeResponse = z.infer<typeof DecomposeNodeResponseSchema>;

export const CompleteQueryResponseSchema = z.object({
  queryId: id,
  status: z.literal('completed'),
  answer: z.string().describe("The root's current answer, now the delivered answer"),
  revision,
});
export type CompleteQueryResponse = z.infer<typeof CompleteQueryResponseSchema>;

export const StopQueryResponseSchema = z.object({
  queryId: id,
  status: z.literal('stopped'),
  previousStatus: z.enum(['open', 'completed']),
  revision,
});
export type StopQueryResponse = z.infer<typeof StopQueryResponseSchema>;

const assignee = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('human') }),
    z.object({ kind: z.literal('proxy'), proxyVersionId: z.string(), jobId: id }),
    z.object({
      kind: z.literal('ensemble'),
      method: z.literal('majority'),
      members: z.array(z.object({ proxyVersionId: z.string(), jobId: id })),
    }),
  ])
  .describe('Who answers the node now');

export const AssignNodeResponseSchema = z.object({
  queryId: id,
  nodeId: id,
  assignee,
  jobs: z
    .array(
      z.object({
        proxyVersionId: z.string(),
        jobId: id,
        inputDigest: z.string().describe('sha256: of the RFC 8785 JSON of the model input'),
        decision: z
          .enum(['allow', 'deny'])
          .nullable()
          .describe("The policy gate's decision (PolicyDecisionRecorded); allowed jobs are leased by workers, denied ones never run"),
      }),
    )
    .describe('One inference job per proxy version (empty for a human)'),
  escalated: z.boolean().describe('True when the gate authorised no job: the node went to a human (reason inference_denied)'),
  revision,
});
export type AssignNodeResponse = z.infer<typeof AssignNodeResponseSchema>;

export const INFERENCE_OUTCOMES = ['answered', 'escalated', 'awaiting_members'] as const;
/** What an accepted result did to its node (`POST /v1/inference/results`). */
export type InferenceOutcome = (typeof INFERENCE_OUTCOMES)[number];

/** What `nodeCommandResponse` reads of a `RecordedCommand`: every node event records its `nodeId`. */
type RecordedNodeCommand = { queryId: string; revision: number; data: { nodeId: string } };

/** `{queryId, nodeId, revision}`: the response of a command on one node, from the event it recorded. */
export function nodeCommandResponse({ queryId, data, revision }: RecordedNodeCommand): NodeCommandResponse {
  return { queryId, nodeId: data.nodeId, revision };
}
