/**
 * An admin replaces the tenant's settings (amplification limits, promotion gates). The whole document is
 * recorded, so every later decision can be traced to the exact values in force.
 */
import { LedgerError } from '../../common/ledger-error.js';
import { canonicalJson } from '../../ledger/canonical-json.js';
import { validateTenantSettings, type TenantSettings, type TenantSettingsUpdated } from '../tenant-settings.js';

export interface UpdateSettingsCommand {
  settings: unknown;
}

/** `current`: the settings in force now (defaults if never set). */
export function decideUpdateSettings(command: UpdateSettingsCommand, current: TenantSettings): [TenantSettingsUpdated] {
  const settings = validateTenantSettings(command.settings);
  // Same content (canonical form, so key order does not matter): recording it again would only add noise.
  if (canonicalJson(settings) === canonicalJson(current)) {
    throw new LedgerError('TENANT.SETTINGS_UNCHANGED', 'unprocessable', 'The settings equal the ones in force');
  }
  return [{ type: 'TenantSettingsUpdated', schema: 1, data: { settings } }];
}
