/**
 * The inference context (DESIGN §6, docs/policy-gate.md): worker registry, the job queue, leases with
 * single-use grants, and result acceptance. Global: it provides the auth guard's `WORKER_KEY_DIRECTORY`.
 * Expects EVENT_STORE, EMBEDDED_LEDGER, CLOCK and ID_GENERATOR globally, like every context.
 * (The worker process itself lives in ./worker; the ONNX pieces in ./onnx.)
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { WORKER_KEY_DIRECTORY } from '../auth/worker-keys.port.js';
import { StreamCommandRunner } from '../common/commands/stream-command.runner.js';
import { InferenceController } from './inference.controller.js';
import { InferenceIndex } from './inference.index.js';
import { DEFAULT_LEASE_MS, INFERENCE_OPTIONS, type InferenceOptions } from './inference.options.js';
import { InferenceLeases } from './leases/leases.service.js';
import { InferenceResults } from './results/results.service.js';
import { WorkersController } from './workers/workers.controller.js';

@Module({})
export class InferenceModule {
  static forRoot(options: Partial<InferenceOptions> = {}): DynamicModule {
    return {
      module: InferenceModule,
      global: true,
      controllers: [WorkersController, InferenceController],
      providers: [
        { provide: INFERENCE_OPTIONS, useValue: { leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS } satisfies InferenceOptions },
        InferenceIndex,
        { provide: WORKER_KEY_DIRECTORY, useFactory: (index: InferenceIndex) => index.workers, inject: [InferenceIndex] },
        StreamCommandRunner,
        InferenceLeases,
        InferenceResults,
      ],
      exports: [WORKER_KEY_DIRECTORY, InferenceIndex],
    };
  }
}
