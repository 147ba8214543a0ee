/**
 * The worker registry (docs/policy-gate.md "Workers"): `POST /v1/workers` (admin) registers a worker's Ed25519
 * key (`WorkerRegistered` on `worker-<id>`), `POST /v1/workers/:id/revoke` (admin) revokes it
 * (`WorkerRevoked`), `GET /v1/workers` (admin, auditor) lists the tenant's workers. A registration is in force
 * when the POST returns: the worker's next request authenticates.
 */
import { Controller, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import { eventStreamCommand, type EventStreamKind } from '../../common/commands/event-stream-command.js';
import { StreamCommandRunner, type CommandEnvelope } from '../../common/commands/stream-command.runner.js';
import { ApiCommandResponse, Envelope, reply } from '../../common/http/command-http.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import { zodToOpenApiSchema } from '../../common/validation/zod-openapi.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../ledger/ledger.tokens.js';
import { ApiProblems } from '../inference.http.js';
import { InferenceIndex } from '../inference.index.js';
import { decideRegisterWorker, decideRevokeWorker, refuseWorker } from './worker.commands.js';
import { parseWorkerEvent, rehydrateWorker, WORKER_STREAM_PREFIX, type WorkerEvent, type WorkerState } from './worker.events.js';
import {
  RegisterWorkerBodySchema,
  RevokeWorkerBodySchema,
  WorkerViewSchema,
  type RegisterWorkerBody,
  type RevokeWorkerBody,
  type WorkerView,
} from './workers.dto.js';

const WORKER_STREAMS: EventStreamKind<WorkerState | null, WorkerEvent> = {
  prefix: WORKER_STREAM_PREFIX,
  aggregate: 'Worker',
  codePrefix: 'WORKER',
  notFound: (id) => refuseWorker('WORKER.NOT_FOUND', `Worker ${id} not found`, { workerId: id }),
  rehydrate: (entries) => rehydrateWorker(entries),
  exists: (state) => state !== null,
  parse: (entry) => parseWorkerEvent(entry),
};

export function workerView(worker: WorkerState): WorkerView {
  return {
    workerId: worker.workerId,
    name: worker.name,
    kid: worker.kid,
    publicKeyJwk: { ...worker.publicKeyJwk },
    status: worker.revokedAt === null ? 'registered' : 'revoked',
    registeredAt: worker.registeredAt,
    registeredBy: worker.registeredBy.sub,
    revokedAt: worker.revokedAt,
    revokeReason: worker.revokeReason,
    revision: worker.revision,
  };
}

@ApiTags('inference')
@Controller('v1/workers')
export class WorkersController {
  constructor(
    private readonly runner: StreamCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(InferenceIndex) private readonly index: InferenceIndex,
  ) {}

  @Post()
  @HttpCode(201)
  @Roles('admin')
  @ApiOperation({
    summary: "Register an inference worker's Ed25519 public key for the tenant",
    description: 'Records WorkerRegistered on worker-<workerId>; kid = the RFC 7638 thumbprint. The worker may lease jobs once this returns.',
  })
  @ApiCommandResponse(201, WorkerViewSchema, 'Registered')
  @ApiProblems('REQUEST.VALIDATION_FAILED', 'WORKER.INVALID_COMMAND', 'WORKER.INVALID_KEY', 'WORKER.ALREADY_REGISTERED', 'WORKER.KEY_IN_USE', 'AUTH.TENANT_FORBIDDEN')
  async register(
    @ZodBody(RegisterWorkerBodySchema) body: RegisterWorkerBody,
    @Envelope({ ifMatch: false }) envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<WorkerView> {
    const outcome = await this.runner.run(
      envelope,
      eventStreamCommand(WORKER_STREAMS, {
        id: body.workerId,
        mode: 'create',
        eventType: 'WorkerRegistered',
        sameRequest: (data) => data.name === body.name && data.publicKeyJwk.x === body.publicKeyJwk.x,
        decide: (state) => decideRegisterWorker(body, state, (kid) => this.index.workers.kidOwner(kid)),
        respond: ({ revision }) => ({ revision }),
      }),
    );
    return reply(response, { ...outcome, body: await this.viewAfter(body.workerId, outcome.body.revision) });
  }

  @Post(':workerId/revoke')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({
    summary: 'Revoke a worker: its tokens and results are refused from now on (final)',
    description: 'Records WorkerRevoked. A result it posts afterwards is refused and recorded as InferenceRejected (INFERENCE.WORKER_REVOKED).',
  })
  @ApiCommandResponse(200, WorkerViewSchema, 'Revoked')
  @ApiProblems('REQUEST.VALIDATION_FAILED', 'WORKER.INVALID_COMMAND', 'WORKER.NOT_FOUND', 'WORKER.ALREADY_REVOKED', 'AUTH.TENANT_FORBIDDEN')
  async revoke(
    @Param('workerId') workerId: string,
    @ZodBody(RevokeWorkerBodySchema) body: RevokeWorkerBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<WorkerView> {
    const outcome = await this.runner.run(
      envelope,
      eventStreamCommand(WORKER_STREAMS, {
        id: workerId,
        mode: 'update',
        eventType: 'WorkerRevoked',
        sameRequest: (data) => data.reason === body.reason,
        decide: (state) => decideRevokeWorker({ workerId, reason: body.reason }, state),
        respond: ({ revision }) => ({ revision }),
      }),
    );
    return reply(response, { ...outcome, body: await this.viewAfter(workerId, outcome.body.revision) });
  }

  @Get()
  @Roles('admin', 'auditor')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The tenant's workers, in registration order" })
  @ApiOkResponse({ schema: zodToOpenApiSchema(WorkerViewSchema.array(), 'output') })
  list(@CurrentPrincipal() principal: Principal): { workers: WorkerView[] } {
    return { workers: this.index.workers.ofTenant(principal.tenant).map(workerView) };
  }

  /** The worker as the registry holds it once the append at `revision` is applied (read-your-writes). */
  private async viewAfter(workerId: string, revision: number): Promise<WorkerView> {
    const [recorded] = await this.store.readStream(WORKER_STREAM_PREFIX + workerId, revision);
    if (recorded !== undefined) await this.index.caughtUp(recorded.position);
    const worker = this.index.workers.byId(workerId);
    if (worker === undefined) throw refuseWorker('WORKER.NOT_FOUND', `Worker ${workerId} not found`, { workerId });
    return workerView(worker);
  }
}
