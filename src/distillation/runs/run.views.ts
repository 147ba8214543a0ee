/** OpenAPI description of the run view (`GET /v1/distillation-runs/:runId`), from one zod source. */
import { z } from 'zod';
import { DatasetSchema, TeacherSchema } from './run.responses.js';

const actor = z.object({ sub: z.string(), role: z.string() });

export const RunViewSchema = z.object({
  runId: z.string(),
  tenant: z.string(),
  status: z.enum(['running', 'completed', 'failed']),
  parentProxyVersionId: z.string().nullable(),
  teacher: TeacherSchema,
  dataset: DatasetSchema,
  student: z.object({ name: z.string(), architecture: z.string(), hyperparameters: z.record(z.string(), z.unknown()) }),
  trainingDigest: z.string(),
  startedAt: z.string(),
  startedBy: actor,
  artifact: z.object({ sha256: z.string(), sizeBytes: z.number().int(), mediaType: z.literal('application/onnx') }).nullable(),
  metrics: z
    .object({ fidelity: z.number(), groundTruthAgreement: z.number(), drift: z.number().nullable(), heldOutQueryIds: z.array(z.string()) })
    .nullable(),
  completedAt: z.string().nullable(),
  completedBy: actor.nullable(),
  failureReason: z.string().nullable(),
  failedAt: z.string().nullable(),
  failedBy: actor.nullable(),
  revision: z.number().int(),
});
