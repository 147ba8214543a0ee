/**
 * The one error type of ida-ledger: a stable string `code` (e.g. `LEDGER.REVISION_CONFLICT`) that clients and
 * auditors' scripts can match on, and an HTTP category that the problem+json filter renders.
 * Plain TypeScript: pure domain code throws it without importing Nest.
 */
export type ErrorCategory =
  | 'bad_request' // 400
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'conflict' // 409
  | 'gone' // 410
  | 'precondition_failed' // 412
  | 'payload_too_large' // 413
  | 'unsupported_media_type' // 415
  | 'unprocessable' // 422
  | 'internal' // 500
  | 'unavailable'; // 503

export const HTTP_STATUS: Record<ErrorCategory, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  internal: 500,
  unavailable: 503,
};

export class LedgerError extends Error {
  constructor(
    readonly code: string,
    readonly category: ErrorCategory,
    message: string,
    /** Extra, JSON-serialisable members for the problem document (never secrets). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'LedgerError';
  }

  get status(): number {
    return HTTP_STATUS[this.category];
  }
}

export function isLedgerError(error: unknown): error is LedgerError {
  return error instanceof LedgerError;
}
