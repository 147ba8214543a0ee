/**
 * Per-tenant settings (docs/ida-domain.md, "Tenant settings"): the amplification limits (defaults and task
 * classes) and the proxy promotion gates. Stream `tenant-<tenant>`, event `TenantSettingsUpdated` carrying the
 * whole new settings, so the settings in force at any position are the last such event before it — a decision
 * that applied them can always be re-checked against exactly those values.
 * Plain TypeScript: no Nest, no storage (the loader takes the port).
 */
import { LedgerError } from '../common/ledger-error.js';
import type { JsonObject } from '../ledger/entry.js';
import type { EventStore } from '../ledger/event-store.port.js';

export const TENANT_SETTINGS_SCHEMA = 1 as const;
export const TENANT_STREAM_PREFIX = 'tenant-';
export const MAX_DEPTH_LIMIT = 16;
export const MAX_TASK_CLASSES = 200;

export type TaskClassLimits = { maxDepth?: number; confidenceThreshold?: number };

export type TenantSettings = {
  amplification: {
    defaultMaxDepth: number;
    defaultConfidenceThreshold: number;
    taskClasses: { [name: string]: TaskClassLimits };
  };
  promotionGates: PromotionGates;
};

export type PromotionGates = {
  minFidelity: number;
  maxDrift: number;
  minAgreement: number;
  maxRecalibrationAgeDays: number;
};

export const DEFAULT_TENANT_SETTINGS: TenantSettings = deepFreeze({
  amplification: { defaultMaxDepth: 3, defaultConfidenceThreshold: 0.7, taskClasses: {} },
  promotionGates: { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.8, maxRecalibrationAgeDays: 30 },
});

export type TenantSettingsUpdated = {
  type: 'TenantSettingsUpdated';
  schema: typeof TENANT_SETTINGS_SCHEMA;
  data: { settings: TenantSettings } & JsonObject;
};

export function tenantStream(tenant: string): string {
  return TENANT_STREAM_PREFIX + tenant;
}

/** The settings in force after `entries` (a `tenant-<t>` stream, in order): the last update, else the defaults. */
export function rehydrateTenantSettings(entries: Iterable<{ type: string; schema: number; data: JsonObject }>): TenantSettings {
  let settings = DEFAULT_TENANT_SETTINGS;
  for (const entry of entries) {
    if (entry.type !== 'TenantSettingsUpdated') continue;
    if (entry.schema !== TENANT_SETTINGS_SCHEMA) throw badStored(`unsupported schema version ${entry.schema}`);
    try {
      settings = deepFreeze(validateTenantSettings(entry.data['settings']));
    } catch (error) {
      throw badStored(error instanceof Error ? error.message : String(error));
    }
  }
  return settings;
}

/** The tenant's settings now (defaults when it never set any). */
export async function loadTenantSettings(store: EventStore, tenant: string): Promise<TenantSettings> {
  const entries = await store.readStream(tenantStream(tenant));
  return rehydrateTenantSettings(entries.map((e) => e.entry));
}

/**
 * Checks a whole settings document and returns a normalised copy holding only the known fields.
 * Throws `TENANT.INVALID_SETTINGS` (422) naming the first bad field.
 */
export function validateTenantSettings(value: unknown): TenantSettings {
  const root = object(value, 'settings');
  const amp = object(root['amplification'], 'settings.amplification');
  const gates = object(root['promotionGates'], 'settings.promotionGates');
  const classesIn = object(amp['taskClasses'] ?? {}, 'settings.amplification.taskClasses');
  const names = Object.keys(classesIn);
  if (names.length > MAX_TASK_CLASSES) throw invalid('settings.amplification.taskClasses', `at most ${MAX_TASK_CLASSES}`);
  const taskClasses: { [name: string]: TaskClassLimits } = {};
  for (const name of names.sort()) {
    const field = `settings.amplification.taskClasses.${name}`;
    if (name.trim().length === 0 || name.length > 100) throw invalid(field, 'a task class name is 1..100 characters');
    const limits = object(classesIn[name], field);
    const out: TaskClassLimits = {};
    if (limits['maxDepth'] !== undefined) out.maxDepth = depth(limits['maxDepth'], `${field}.maxDepth`);
    if (limits['confidenceThreshold'] !== undefined) {
      out.confidenceThreshold = unit(limits['confidenceThreshold'], `${field}.confidenceThreshold`);
    }
    taskClasses[name] = out;
  }
  const maxAge = gates['maxRecalibrationAgeDays'];
  if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge <= 0 || maxAge > 3650) {
    throw invalid('settings.promotionGates.maxRecalibrationAgeDays', 'must be a number of days in (0, 3650]');
  }
  return {
    amplification: {
      defaultMaxDepth: depth(amp['defaultMaxDepth'], 'settings.amplification.defaultMaxDepth'),
      defaultConfidenceThreshold: unit(amp['defaultConfidenceThreshold'], 'settings.amplification.defaultConfidenceThreshold'),
      taskClasses,
    },
    promotionGates: {
      minFidelity: unit(gates['minFidelity'], 'settings.promotionGates.minFidelity'),
      maxDrift: unit(gates['maxDrift'], 'settings.promotionGates.maxDrift'),
      minAgreement: unit(gates['minAgreement'], 'settings.promotionGates.minAgreement'),
      maxRecalibrationAgeDays: maxAge,
    },
  };
}

/** The limits a new query gets, and where each came from (recorded in `AmplificationQueryOpened`). */
export type LimitSource = 'request' | 'taskClass' | 'tenantDefault';

export function resolveQueryLimits(
  settings: TenantSettings,
  request: { taskClass?: string | undefined; maxDepth?: number | undefined; confidenceThreshold?: number | undefined },
): { maxDepth: number; confidenceThreshold: number; limitSources: { maxDepth: LimitSource; confidenceThreshold: LimitSource } } | null {
  const amp = settings.amplification;
  let taskClass: TaskClassLimits | undefined;
  if (request.taskClass !== undefined) {
    if (!Object.prototype.hasOwnProperty.call(amp.taskClasses, request.taskClass)) return null;
    taskClass = amp.taskClasses[request.taskClass];
  }
  const pick = (asked: number | undefined, fromClass: number | undefined, fallback: number): [number, LimitSource] =>
    asked !== undefined ? [asked, 'request'] : fromClass !== undefined ? [fromClass, 'taskClass'] : [fallback, 'tenantDefault'];
  const [maxDepth, depthSource] = pick(request.maxDepth, taskClass?.maxDepth, amp.defaultMaxDepth);
  const [confidenceThreshold, thresholdSource] = pick(
    request.confidenceThreshold,
    taskClass?.confidenceThreshold,
    amp.defaultConfidenceThreshold,
  );
  return { maxDepth, confidenceThreshold, limitSources: { maxDepth: depthSource, confidenceThreshold: thresholdSource } };
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(field, 'must be an object');
  return value as Record<string, unknown>;
}

function unit(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalid(field, 'must be a number between 0 and 1');
  }
  return value;
}

function depth(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DEPTH_LIMIT) {
    throw invalid(field, `must be an integer between 1 and ${MAX_DEPTH_LIMIT}`);
  }
  return value;
}

function invalid(field: string, message: string): LedgerError {
  return new LedgerError('TENANT.INVALID_SETTINGS', 'unprocessable', `${field}: ${message}`, { field });
}

function badStored(reason: string): LedgerError {
  return new LedgerError('TENANT.EVENT_INVALID', 'internal', `Stored TenantSettingsUpdated is invalid: ${reason}`, { reason });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
