/**
 * The projections bounded context (DESIGN §3, docs/ida-domain.md "Projections"): read models folded from the
 * log — decision trees, the oversight queue, lineage, proxy impact — live in the service and rebuildable
 * offline (`ida-ledger rebuild`). Expects EVENT_STORE to be provided globally by the app, and the global
 * AuthGuard and problem+json filter to be registered there too.
 */
import { Module } from '@nestjs/common';
import { LineageController } from './lineage/lineage.controller.js';
import { OversightQueueController } from './oversight-queue/oversight-queue.controller.js';
import { ProjectionsStatusController } from './projections-status/projections-status.controller.js';
import { LiveProjections } from './projections.live.js';
import { ProxyImpactController } from './proxy-impact/proxy-impact.controller.js';

@Module({
  controllers: [OversightQueueController, LineageController, ProxyImpactController, ProjectionsStatusController],
  providers: [LiveProjections],
  exports: [LiveProjections],
})
export class ProjectionsModule {}
