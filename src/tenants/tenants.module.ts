/**
 * Tenant settings (docs/ida-domain.md): amplification limits and promotion gates, recorded on `tenant-<t>`.
 * Expects EVENT_STORE, CLOCK and ID_GENERATOR globally, like every context.
 */
import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { StreamCommandRunner } from '../common/commands/stream-command.runner.js';
import { TenantSettingsController } from './update-settings/update-settings.controller.js';
import { UpdateTenantSettingsHandler } from './update-settings/update-settings.handler.js';

@Module({
  imports: [CqrsModule],
  controllers: [TenantSettingsController],
  providers: [StreamCommandRunner, UpdateTenantSettingsHandler],
})
export class TenantsModule {}
