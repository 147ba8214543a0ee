import { LedgerError } from '../../common/ledger-error.js';
import { canonicalJson } from '../canonical-json.js';
import type { EntryMeta, JsonObject } from '../entry.js';
import type { AppendRequest, ExpectedRevision } from '../event-store.port.js';

/**
 * An append request checked and snapshotted when `append` is called: `data` and `meta` are copied through their
 * canonical JSON (so a caller mutating its objects afterwards changes neither what is signed nor what readers
 * and subscribers get) and frozen (so no reader of a shared entry object can change it for the others).
 */
export interface PreparedEvent {
  type: string;
  schema: number;
  data: JsonObject;
  /** `canonicalJson(data)`: reused to compose the signed entry's bytes for its leaf hash. */
  dataJson: string;
}

export interface PreparedAppend {
  stream: string;
  expectedRevision: ExpectedRevision;
  events: PreparedEvent[];
  meta: EntryMeta;
  metaJson: string;
}

const LONE_SURROGATE = /\p{Cs}/u;

/** A string RFC 8785 can serialise (`canonicalJson` refuses lone surrogates), and not empty. */
export function isWellFormedName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && !LONE_SURROGATE.test(value);
}

function invalid(message: string, details: Record<string, unknown> = {}): LedgerError {
  return new LedgerError('LEDGER.INVALID_APPEND', 'bad_request', message, details);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

/** Canonical JSON and a frozen, independent copy of a JSON object; `what` names it in the error. */
function snapshot(value: Record<string, unknown>, what: string): { copy: JsonObject; json: string } {
  let json: string;
  let copy: unknown;
  try {
    json = canonicalJson(value);
    // The parsed copy is what gets signed and stored: the caller's object may change after append returns.
    copy = JSON.parse(json);
  } catch (error) {
    throw invalid(`${what} is not representable as RFC 8785 JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isPlainObject(copy)) throw invalid(`${what} must serialise to a JSON object`);
  return { copy: deepFreeze(copy as JsonObject), json };
}

export function isExpectedRevision(value: unknown): value is ExpectedRevision {
  return value === 'no_stream' || value === 'any' || (Number.isSafeInteger(value) && (value as number) >= 0);
}

/** Validates an append request (throws `LEDGER.INVALID_APPEND`) and snapshots it. */
export function prepareAppend(request: AppendRequest): PreparedAppend {
  if (!isPlainObject(request)) throw invalid('append request must be an object');
  const { stream, expectedRevision, events, meta } = request;
  if (!isWellFormedName(stream)) throw invalid('stream must be a non-empty, well-formed string');
  if (!isExpectedRevision(expectedRevision))
    throw invalid("expectedRevision must be 'no_stream', 'any' or a non-negative integer", { stream });
  if (!Array.isArray(events) || events.length === 0) throw invalid('an append needs at least one event', { stream });
  if (!isPlainObject(meta)) throw invalid('meta must be an object', { stream });
  for (const member of ['tenant', 'commandId', 'recordedAt'] as const)
    if (!isWellFormedName(meta[member])) throw invalid(`meta.${member} must be a non-empty, well-formed string`, { stream });
  const prepared = events.map((event, index): PreparedEvent => {
    if (!isPlainObject(event)) throw invalid(`events[${index}] must be an object`, { stream });
    if (!isWellFormedName(event.type)) throw invalid(`events[${index}].type must be a non-empty, well-formed string`, { stream });
    if (!Number.isSafeInteger(event.schema) || event.schema < 0)
      throw invalid(`events[${index}].schema must be a non-negative integer`, { stream, type: event.type });
    if (!isPlainObject(event.data)) throw invalid(`events[${index}].data must be a JSON object`, { stream, type: event.type });
    const { copy, json } = snapshot(event.data, `events[${index}].data`);
    return { type: event.type, schema: event.schema, data: copy, dataJson: json };
  });
  const { copy: metaCopy, json: metaJson } = snapshot(meta as unknown as Record<string, unknown>, 'meta');
  return { stream, expectedRevision, events: prepared, meta: metaCopy as unknown as EntryMeta, metaJson };
}
