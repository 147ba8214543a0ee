/** `UpdateTenantSettings` (CQRS command) and its thin handler: stream `tenant-<tenant>` through the shared runner. */
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  StreamCommandRunner,
  type CommandEnvelope,
  type StreamCommandOutcome,
} from '../../common/commands/stream-command.runner.js';
import { LedgerError } from '../../common/ledger-error.js';
import { canonicalJson } from '../../ledger/canonical-json.js';
import { rehydrateTenantSettings, tenantStream, type TenantSettings } from '../tenant-settings.js';
import type { TenantSettingsResponse, UpdateSettingsBody } from './update-settings.dto.js';
import { decideUpdateSettings } from './update-settings.command.js';

export class UpdateTenantSettings extends Command<StreamCommandOutcome<TenantSettingsResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly body: UpdateSettingsBody,
  ) {
    super();
  }
}

@CommandHandler(UpdateTenantSettings)
export class UpdateTenantSettingsHandler implements ICommandHandler<UpdateTenantSettings> {
  constructor(private readonly runner: StreamCommandRunner) {}

  execute({ envelope, body }: UpdateTenantSettings): Promise<StreamCommandOutcome<TenantSettingsResponse>> {
    const tenant = envelope.principal.tenant;
    return this.runner.run(envelope, {
      stream: tenantStream(tenant),
      mode: 'upsert',
      aggregate: 'Tenant settings',
      notFound: () => new LedgerError('TENANT.NOT_FOUND', 'not_found', 'Tenant settings not found'),
      rehydrate: (entries) => rehydrateTenantSettings(entries),
      exists: () => true,
      eventType: 'TenantSettingsUpdated',
      sameRequest: (entry) => canonicalJson(entry.data['settings'] ?? null) === canonicalJson(normalised(body.settings)),
      decide: (current) => decideUpdateSettings({ settings: body.settings }, current),
      respond: (entries) => {
        const last = entries[entries.length - 1]!;
        return { tenant, settings: last.data['settings'] as TenantSettings, revision: last.revision };
      },
    });
  }
}

/** The recorded form of a request's settings (validation sorts task classes), for the idempotency check. */
function normalised(settings: unknown): object | null {
  try {
    return rehydrateTenantSettings([{ type: 'TenantSettingsUpdated', schema: 1, data: { settings: settings as never } }]);
  } catch {
    return null;
  }
}
