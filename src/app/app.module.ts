import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AmplificationModule } from '../amplification/amplification.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { ProjectionsModule } from '../projections/projections.module.js';
import type { TokenVerifier } from '../auth/token-verifier.port.js';
import { CommonModule } from '../common/common.module.js';
import type { ArtifactStore } from '../distillation/artifacts/artifact-store.port.js';
import { DistillationModule } from '../distillation/distillation.module.js';
import type { EmbeddedLedger } from '../ledger/embedded-ledger.js';
import { EMBEDDED_LEDGER, EVENT_STORE } from '../ledger/ledger.tokens.js';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { METRICS_REGISTRY } from './metrics.js';
import { PolicyModule } from '../policy/policy.module.js';
import { InferenceModule } from '../inference/inference.module.js';
import type { ValidatedPolicySet } from '../policy/policy-set.js';
import type { Registry } from 'prom-client';

export interface AppModuleOptions {
  ledger: EmbeddedLedger;
  tokenVerifier: TokenVerifier;
  metrics: Registry;
  /** Content-addressed model bytes (`<data>/artifacts` in the service) and the largest upload accepted. */
  artifacts: { store: ArtifactStore; maxBytes: number };
  /** The Cedar policy set loaded from POLICY_DIR and validated (published on `policy-system` at start when new). */
  policySet: ValidatedPolicySet;
  /** Inference leases: how long a worker holds a job (and its grant). */
  inference?: { leaseMs: number };
}

/** Global providers for the ledger's ports, so every bounded context injects them by token. */
@Module({})
class LedgerPortsModule {
  static forRoot(ledger: EmbeddedLedger): DynamicModule {
    return {
      module: LedgerPortsModule,
      global: true,
      providers: [
        { provide: EMBEDDED_LEDGER, useValue: ledger },
        // `events`, not `store`: command appends must not overlap a key rotation (see EmbeddedLedger.events).
        { provide: EVENT_STORE, useValue: ledger.events },
      ],
      exports: [EMBEDDED_LEDGER, EVENT_STORE],
    };
  }
}

/** The whole service. The ledger is opened before Nest starts (it owns files and keys) and handed in. */
@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        CommonModule,
        LedgerPortsModule.forRoot(options.ledger),
        AuthModule.forRoot({ verifier: options.tokenVerifier }),
        AmplificationModule,
        DistillationModule.forRoot({ artifactStore: options.artifacts.store, artifactMaxBytes: options.artifacts.maxBytes }),
        AuditModule,
        TenantsModule,
        ProjectionsModule,
        PolicyModule.forRoot({ shipped: options.policySet }),
        InferenceModule.forRoot(options.inference ?? {}),
      ],
      controllers: [HealthController, MetricsController],
      providers: [{ provide: METRICS_REGISTRY, useValue: options.metrics }],
    };
  }
}
