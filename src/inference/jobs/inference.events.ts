/**
 * The inference context's own events on a job's query stream (docs/policy-gate.md): who leased it under which
 * grant, which lease ran out, and every refused result. They sit beside the amplification events of
 * `query-<id>` (whose fold skips them); `foldJobLeases` reads them back. Plain TypeScript.
 */
import { badEventOf, eventTypeGuard, openStoredEvent, type StoredEvent } from '../../common/events/stored-event-fields.js';
import type { ErrorCategory } from '../../common/ledger-error.js';

export type InferenceLeasedData = {
  jobId: string;
  workerId: string;
  /** The grant's `jti`: one grant per lease. */
  jti: string;
  /** ISO time the lease ends; the job may be leased again from then on. */
  leasedUntil: string;
  /** ISO time of the grant's `exp` (whole seconds, never after `leasedUntil`). */
  grantExpiresAt: string;
};
export type InferenceLeaseExpiredData = { jobId: string; workerId: string; jti: string };
export type InferenceRejectedData = {
  jobId: string;
  nodeId: string;
  /** The worker that posted, when it could be told (a registered key, or a valid grant's subject). */
  workerId: string | null;
  /** The posted grant's `jti`, when the grant verified. */
  jti: string | null;
  code: InferenceRejectionCode;
  reason: string;
};

export type InferenceEvent =
  | { type: 'InferenceLeased'; schema: 1; data: InferenceLeasedData }
  | { type: 'InferenceLeaseExpired'; schema: 1; data: InferenceLeaseExpiredData }
  | { type: 'InferenceRejected'; schema: 1; data: InferenceRejectedData };

export const INFERENCE_EVENT_TYPES = ['InferenceLeased', 'InferenceLeaseExpired', 'InferenceRejected'] as const;
export const isInferenceEventType = eventTypeGuard(INFERENCE_EVENT_TYPES);

/** Why a result was refused; recorded in `InferenceRejected.code` and answered as problem+json. */
export const INFERENCE_REJECTIONS = {
  'INFERENCE.JOB_NOT_AUTHORIZED': 'forbidden',
  'INFERENCE.JOB_NOT_PENDING': 'conflict',
  'INFERENCE.GRANT_INVALID': 'forbidden',
  'INFERENCE.GRANT_EXPIRED': 'forbidden',
  'INFERENCE.GRANT_MISMATCH': 'unprocessable',
  'INFERENCE.GRANT_CONSUMED': 'conflict',
  'INFERENCE.LEASE_SUPERSEDED': 'conflict',
  'INFERENCE.WORKER_UNKNOWN': 'forbidden',
  'INFERENCE.WORKER_REVOKED': 'forbidden',
  'INFERENCE.SIGNATURE_INVALID': 'forbidden',
} as const satisfies Record<string, ErrorCategory>;

export type InferenceRejectionCode = keyof typeof INFERENCE_REJECTIONS;
const REJECTION_CODES = Object.keys(INFERENCE_REJECTIONS) as InferenceRejectionCode[];

const bad = badEventOf('INFERENCE.EVENT_INVALID');

export function parseInferenceEvent(entry: StoredEvent): InferenceEvent {
  const { type, fields: f } = openStoredEvent(entry, isInferenceEventType, () => [1], bad);
  switch (type) {
    case 'InferenceLeased':
      return {
        type,
        schema: 1,
        data: {
          jobId: f.str('jobId'),
          workerId: f.str('workerId'),
          jti: f.str('jti'),
          leasedUntil: isoTime(f.str('leasedUntil'), type),
          grantExpiresAt: isoTime(f.str('grantExpiresAt'), type),
        },
      };
    case 'InferenceLeaseExpired':
      return { type, schema: 1, data: { jobId: f.str('jobId'), workerId: f.str('workerId'), jti: f.str('jti') } };
    case 'InferenceRejected':
      return {
        type,
        schema: 1,
        data: {
          jobId: f.str('jobId'),
          nodeId: f.str('nodeId'),
          workerId: f.strOrNull('workerId'),
          jti: f.strOrNull('jti'),
          code: f.oneOf('code', REJECTION_CODES),
          reason: f.str('reason'),
        },
      };
    default: {
      const unreachable: never = type;
      throw bad(String(unreachable), 'unknown event type');
    }
  }
}

function isoTime(value: string, type: string): string {
  if (Number.isNaN(Date.parse(value))) throw bad(type, `${value} is not an ISO time`);
  return value;
}
