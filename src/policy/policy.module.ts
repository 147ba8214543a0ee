/**
 * The policy gate (DESIGN §6, docs/policy-gate.md): Cedar policy sets on `policy-system` / `policy-<tenant>`
 * and the `PolicyEngine` (global token POLICY_ENGINE) that other contexts ask before running a proxy.
 * Expects EVENT_STORE, CLOCK and ID_GENERATOR globally, like every context; `shipped` is the set loaded from
 * POLICY_DIR and validated before Nest started.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { StreamCommandRunner } from '../common/commands/stream-command.runner.js';
import { CedarPolicyEngine } from './cedar-policy-engine.js';
import { POLICY_ENGINE } from './policy-engine.port.js';
import { PolicySetIndex } from './policy-set.index.js';
import type { ValidatedPolicySet } from './policy-set.js';
import { PolicyStartup, SHIPPED_POLICY_SET } from './policy-startup.js';
import { PolicySetsController } from './publish-policy-set/publish-policy-set.controller.js';
import { PublishPolicySetHandler } from './publish-policy-set/publish-policy-set.handler.js';

@Module({})
export class PolicyModule {
  static forRoot(options: { shipped: ValidatedPolicySet }): DynamicModule {
    return {
      module: PolicyModule,
      // Global: the assign command (amplification) and the inference context inject POLICY_ENGINE directly.
      global: true,
      imports: [CqrsModule],
      controllers: [PolicySetsController],
      providers: [
        { provide: SHIPPED_POLICY_SET, useValue: options.shipped },
        { provide: PolicySetIndex, useFactory: () => new PolicySetIndex() },
        { provide: CedarPolicyEngine, useFactory: (index: PolicySetIndex) => new CedarPolicyEngine(index), inject: [PolicySetIndex] },
        { provide: POLICY_ENGINE, useExisting: CedarPolicyEngine },
        StreamCommandRunner,
        PublishPolicySetHandler,
        PolicyStartup,
      ],
      exports: [POLICY_ENGINE, PolicySetIndex],
    };
  }
}
