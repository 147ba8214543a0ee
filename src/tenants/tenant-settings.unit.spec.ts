import { describe, expect, it } from '@jest/globals';
import { isLedgerError } from '../common/ledger-error.js';
import {
  DEFAULT_TENANT_SETTINGS,
  rehydrateTenantSettings,
  resolveQueryLimits,
  validateTenantSettings,
  type TenantSettings,
} from './tenant-settings.js';

const custom: TenantSettings = {
  amplification: {
    defaultMaxDepth: 4,
    defaultConfidenceThreshold: 0.6,
    taskClasses: { arithmetic: { maxDepth: 6 }, medical: { maxDepth: 2, confidenceThreshold: 0.95 } },
  },
  promotionGates: { minFidelity: 0.9, maxDrift: 0.1, minAgreement: 0.85, maxRecalibrationAgeDays: 7 },
};

const updated = (settings: unknown) => ({ type: 'TenantSettingsUpdated', schema: 1, data: { settings } as never });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isLedgerError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('tenant settings', () => {
  it('given no event, the defaults apply', () => {
    expect(rehydrateTenantSettings([])).toEqual(DEFAULT_TENANT_SETTINGS);
  });

  it('given two updates, the last one is in force (whole document, not a merge)', () => {
    const second = { ...custom, amplification: { ...custom.amplification, taskClasses: {} } };
    expect(rehydrateTenantSettings([updated(custom), updated(second)])).toEqual(second);
  });

  it('a malformed stored update is an internal error, never silently skipped', () => {
    expect(codeOf(() => rehydrateTenantSettings([updated({ amplification: {} })]))).toBe('TENANT.EVENT_INVALID');
    expect(codeOf(() => rehydrateTenantSettings([{ ...updated(custom), schema: 9 }]))).toBe('TENANT.EVENT_INVALID');
  });

  it.each([
    ['a threshold above 1', { ...custom.amplification, defaultConfidenceThreshold: 1.2 }, 'amplification'],
    ['a depth of 0', { ...custom.amplification, defaultMaxDepth: 0 }, 'amplification'],
    ['a fractional depth', { ...custom.amplification, defaultMaxDepth: 2.5 }, 'amplification'],
    ['a blank task class', { ...custom.amplification, taskClasses: { ' ': {} } }, 'amplification'],
  ])('validation refuses %s with TENANT.INVALID_SETTINGS', (_, amplification) => {
    expect(codeOf(() => validateTenantSettings({ ...custom, amplification }))).toBe('TENANT.INVALID_SETTINGS');
  });

  it('validation refuses a non-positive recalibration age', () => {
    const promotionGates = { ...custom.promotionGates, maxRecalibrationAgeDays: 0 };
    expect(codeOf(() => validateTenantSettings({ ...custom, promotionGates }))).toBe('TENANT.INVALID_SETTINGS');
  });

  it('validation keeps only known fields', () => {
    const withExtra = { ...custom, extra: 1, promotionGates: { ...custom.promotionGates, other: 2 } };
    expect(validateTenantSettings(withExtra)).toEqual(custom);
  });

  describe('resolveQueryLimits', () => {
    it('the request wins over the task class, which wins over the tenant default; each source is named', () => {
      expect(resolveQueryLimits(custom, { taskClass: 'medical', maxDepth: 5 })).toEqual({
        maxDepth: 5,
        confidenceThreshold: 0.95,
        limitSources: { maxDepth: 'request', confidenceThreshold: 'taskClass' },
      });
      expect(resolveQueryLimits(custom, { taskClass: 'arithmetic' })).toEqual({
        maxDepth: 6,
        confidenceThreshold: 0.6,
        limitSources: { maxDepth: 'taskClass', confidenceThreshold: 'tenantDefault' },
      });
      expect(resolveQueryLimits(custom, {})).toEqual({
        maxDepth: 4,
        confidenceThreshold: 0.6,
        limitSources: { maxDepth: 'tenantDefault', confidenceThreshold: 'tenantDefault' },
      });
    });

    it('an unknown task class (also one named like an Object.prototype member) resolves to null', () => {
      expect(resolveQueryLimits(custom, { taskClass: 'poetry' })).toBeNull();
      expect(resolveQueryLimits(custom, { taskClass: 'toString' })).toBeNull();
    });
  });
});
