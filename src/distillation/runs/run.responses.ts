/**
 * Response bodies of the run commands, as zod schemas so OpenAPI documents them from one source. Every command
 * answers `{runId, status, revision, ...}`; `revision` is the stream revision after it (the next `If-Match`).
 */
import { z } from 'zod';

const revision = z.number().int().min(0).describe('Stream revision after the command (also sent as ETag)');
const runId = z.string().describe('UUID v7 of the run');
const digest = z.string().describe('sha256:<64 lowercase hex>');

export const TeacherSchema = z.object({
  proxyVersionIds: z.array(z.string()).describe('Sorted distinct proxy versions that answered a node in the transcripts'),
  humanPool: z.array(z.string()).describe('Sorted distinct subjects of human answers and overrides in the transcripts'),
});

export const DatasetSchema = z.object({
  queryIds: z.array(z.string()),
  transcripts: z.array(z.object({ queryId: z.string(), entryCount: z.number().int() })),
  leafCount: z.number().int(),
  transcriptRoot: z.string().describe('Hex RFC 9162 Merkle tree hash over the transcripts’ leaf hashes'),
});

export const StartRunResponseSchema = z.object({
  runId,
  status: z.literal('running'),
  parentProxyVersionId: z.string().nullable(),
  teacher: TeacherSchema,
  dataset: DatasetSchema,
  revision,
});
export type StartRunResponse = z.infer<typeof StartRunResponseSchema>;

export const CompleteRunResponseSchema = z.object({
  runId,
  status: z.literal('completed'),
  artifact: z.object({ sha256: digest, sizeBytes: z.number().int(), mediaType: z.literal('application/onnx') }),
  metrics: z.object({
    fidelity: z.number(),
    groundTruthAgreement: z.number(),
    drift: z.number().nullable(),
    heldOutQueryIds: z.array(z.string()),
  }),
  revision,
});
export type CompleteRunResponse = z.infer<typeof CompleteRunResponseSchema>;

export const FailRunResponseSchema = z.object({ runId, status: z.literal('failed'), reason: z.string(), revision });
export type FailRunResponse = z.infer<typeof FailRunResponseSchema>;
