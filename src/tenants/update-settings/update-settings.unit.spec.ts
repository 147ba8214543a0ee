import { describe, expect, it } from '@jest/globals';
import { isLedgerError } from '../../common/ledger-error.js';
import { DEFAULT_TENANT_SETTINGS, rehydrateTenantSettings, type TenantSettings } from '../tenant-settings.js';
import { decideUpdateSettings } from './update-settings.command.js';

const stricter: TenantSettings = {
  ...DEFAULT_TENANT_SETTINGS,
  promotionGates: { ...DEFAULT_TENANT_SETTINGS.promotionGates, minFidelity: 0.95 },
};

function refusal(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    if (isLedgerError(error)) return { code: error.code, category: error.category };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('update-settings', () => {
  it('given the defaults, when stricter gates are set, then TenantSettingsUpdated with the whole document', () => {
    expect(decideUpdateSettings({ settings: stricter }, DEFAULT_TENANT_SETTINGS)).toEqual([
      { type: 'TenantSettingsUpdated', schema: 1, data: { settings: stricter } },
    ]);
  });

  it('given earlier settings, when the same settings are sent again, then TENANT.SETTINGS_UNCHANGED (422)', () => {
    const current = rehydrateTenantSettings([{ type: 'TenantSettingsUpdated', schema: 1, data: { settings: stricter } }]);
    expect(refusal(() => decideUpdateSettings({ settings: stricter }, current))).toEqual({
      code: 'TENANT.SETTINGS_UNCHANGED',
      category: 'unprocessable',
    });
  });

  it('given the defaults, when invalid settings are sent, then TENANT.INVALID_SETTINGS (422)', () => {
    const bad = { ...stricter, promotionGates: { ...stricter.promotionGates, maxDrift: -1 } };
    expect(refusal(() => decideUpdateSettings({ settings: bad }, DEFAULT_TENANT_SETTINGS))).toEqual({
      code: 'TENANT.INVALID_SETTINGS',
      category: 'unprocessable',
    });
  });
});
