/**
 * The distillation bounded context (DESIGN §3): distillation runs, the proxy registry (promotion gates,
 * recalibration, retirement) and the artifact store. Expects EVENT_STORE, CLOCK and ID_GENERATOR to be provided
 * globally by the app, and the global AuthGuard and problem+json filter to be registered there too.
 *
 * Global, so that other contexts (inference: workers fetch models by digest) inject `ARTIFACT_STORE` without
 * importing this module.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { StreamCommandRunner } from '../common/commands/stream-command.runner.js';
import { ARTIFACT_MAX_BYTES, ARTIFACT_STORE, type ArtifactStore } from './artifacts/artifact-store.port.js';
import { ArtifactsController } from './artifacts/artifacts.controller.js';
import { GetProxyController } from './proxies/get-proxy/get-proxy.controller.js';
import { GetProxyHandler } from './proxies/get-proxy/get-proxy.query.js';
import { ImportProxyController } from './proxies/import-proxy/import-proxy.controller.js';
import { ImportProxyHandler } from './proxies/import-proxy/import-proxy.handler.js';
import { ListProxiesController } from './proxies/list-proxies/list-proxies.controller.js';
import { ListProxiesHandler } from './proxies/list-proxies/list-proxies.query.js';
import { PromoteProxyController } from './proxies/promote-proxy/promote-proxy.controller.js';
import { PromoteProxyHandler } from './proxies/promote-proxy/promote-proxy.handler.js';
import { RecalibrateProxyController } from './proxies/recalibrate-proxy/recalibrate-proxy.controller.js';
import { RecalibrateProxyHandler } from './proxies/recalibrate-proxy/recalibrate-proxy.handler.js';
import { RegisterProxyController } from './proxies/register-proxy/register-proxy.controller.js';
import { RegisterProxyHandler } from './proxies/register-proxy/register-proxy.handler.js';
import { RetireProxyController } from './proxies/retire-proxy/retire-proxy.controller.js';
import { RetireProxyHandler } from './proxies/retire-proxy/retire-proxy.handler.js';
import { CompleteRunController } from './runs/complete-run/complete-run.controller.js';
import { CompleteRunHandler } from './runs/complete-run/complete-run.handler.js';
import { FailRunController } from './runs/fail-run/fail-run.controller.js';
import { FailRunHandler } from './runs/fail-run/fail-run.handler.js';
import { GetRunController } from './runs/get-run/get-run.controller.js';
import { GetRunHandler } from './runs/get-run/get-run.query.js';
import { StartRunController } from './runs/start-run/start-run.controller.js';
import { StartRunHandler } from './runs/start-run/start-run.handler.js';

export interface DistillationModuleOptions {
  artifactStore: ArtifactStore;
  /** Largest accepted artifact upload, in bytes. */
  artifactMaxBytes: number;
}

@Module({})
export class DistillationModule {
  static forRoot(options: DistillationModuleOptions): DynamicModule {
    return {
      module: DistillationModule,
      global: true,
      imports: [CqrsModule],
      controllers: [
        ArtifactsController,
        StartRunController,
        CompleteRunController,
        FailRunController,
        GetRunController,
        RegisterProxyController,
        ImportProxyController,
        PromoteProxyController,
        RecalibrateProxyController,
        RetireProxyController,
        // After the POST routes of the same prefix; GET /v1/proxies before GET /v1/proxies/:id.
        ListProxiesController,
        GetProxyController,
      ],
      providers: [
        StreamCommandRunner,
        { provide: ARTIFACT_STORE, useValue: options.artifactStore },
        { provide: ARTIFACT_MAX_BYTES, useValue: options.artifactMaxBytes },
        StartRunHandler,
        CompleteRunHandler,
        FailRunHandler,
        GetRunHandler,
        RegisterProxyHandler,
        ImportProxyHandler,
        PromoteProxyHandler,
        RecalibrateProxyHandler,
        RetireProxyHandler,
        GetProxyHandler,
        ListProxiesHandler,
      ],
      exports: [ARTIFACT_STORE],
    };
  }
}
