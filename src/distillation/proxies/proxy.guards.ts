/**
 * Refusals of the proxy-registry deciders: one place for the stable codes and their HTTP categories. A command
 * is checked in this order: its own values (no state needed), then the proxy, then the facts the handler
 * loaded (run, parent, artifact, tenant gates).
 */
import { LedgerError, type ErrorCategory } from '../../common/ledger-error.js';
import { isDigest, isId, isNonBlank, isUnit, MAX_ID_LENGTH } from '../../common/domain-values.js';
import type { ProxyStage } from './proxy.events.js';
import type { ProxyState } from './proxy.state.js';

export const PROXY_REFUSALS = {
  'PROXY.INVALID_COMMAND': 'unprocessable',
  'PROXY.NOT_FOUND': 'not_found',
  'PROXY.ALREADY_EXISTS': 'conflict',
  'PROXY.ALREADY_REGISTERED': 'conflict',
  'PROXY.RUN_NOT_FOUND': 'unprocessable',
  'PROXY.RUN_NOT_COMPLETED': 'conflict',
  'PROXY.PARENT_NOT_FOUND': 'unprocessable',
  'PROXY.ARTIFACT_NOT_FOUND': 'unprocessable',
  'PROXY.INVALID_TRANSITION': 'conflict',
  'PROXY.GATES_NOT_MET': 'conflict',
  'PROXY.RETIRED': 'conflict',
} as const satisfies Record<string, ErrorCategory>;

export type ProxyRefusalCode = keyof typeof PROXY_REFUSALS;

export const MAX_PROXY_NAME_LENGTH = 200;
export const MAX_PROXY_VERSION_LENGTH = 100;
export const MAX_PROXY_REASON_LENGTH = 2000;

export function refuseProxy(code: ProxyRefusalCode, message: string, details: Record<string, unknown> = {}): LedgerError {
  return new LedgerError(code, PROXY_REFUSALS[code], message, details);
}

export function invalidProxy(field: string, message: string): LedgerError {
  return refuseProxy('PROXY.INVALID_COMMAND', `${field}: ${message}`, { field });
}

export function proxyNotFound(proxyVersionId: string): LedgerError {
  return refuseProxy('PROXY.NOT_FOUND', 'Proxy version not found', { proxyVersionId });
}

export function requireProxy(state: ProxyState | null, proxyVersionId: string): ProxyState {
  if (state === null) throw proxyNotFound(proxyVersionId);
  return state;
}

export function invalidTransition(from: ProxyStage, to: ProxyStage): LedgerError {
  return refuseProxy('PROXY.INVALID_TRANSITION', `A ${from} proxy cannot become ${to}`, { from, to });
}

export function requireProxyId(value: unknown, field: string): string {
  if (!isId(value)) throw invalidProxy(field, `must be a string of 1..${MAX_ID_LENGTH} characters`);
  return value;
}

export function requireProxyDigest(value: unknown, field: string): string {
  if (!isDigest(value)) throw invalidProxy(field, 'must be "sha256:" followed by 64 lowercase hex characters');
  return value;
}

export function requireProxyText(value: unknown, field: string, maxLength: number): string {
  if (!isNonBlank(value)) throw invalidProxy(field, 'must be a non-blank string');
  if (value.length > maxLength) throw invalidProxy(field, `must be at most ${maxLength} characters`);
  return value;
}

export function requireProxyUnitOrNull(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null;
  if (!isUnit(value)) throw invalidProxy(field, 'must be a number between 0 and 1, or null');
  return value;
}
