/**
 * `POST /v1/inference/results` (docs/policy-gate.md "Workers"): the checks that need keys and I/O (the grant
 * against the ledger's log keys, the signer in the worker registry, the result signature), then the pure
 * `decideResult` on the job's stream: `InferenceCompleted` (+ aggregation / escalation) or `InferenceRejected`,
 * appended either way; a rejection then answers its code as problem+json. The route does its own
 * authentication (the result's signature and grant), so that an attempt with an unknown or revoked key is
 * still recorded on the job it names.
 */
import { Inject, Injectable } from '@nestjs/common';
import { inferenceOutcome } from '../../amplification/record-inference-result/record-inference-result.command.js';
import type { Principal } from '../../auth/principal.js';
import { CLOCK, type Clock } from '../../common/clock.js';
import { StreamCommandRunner } from '../../common/commands/stream-command.runner.js';
import { LedgerError } from '../../common/ledger-error.js';
import { compactJwsHeader } from '../../ledger/compact-jws.js';
import type { EmbeddedLedger } from '../../ledger/embedded-ledger.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { EMBEDDED_LEDGER, EVENT_STORE } from '../../ledger/ledger.tokens.js';
import { verifyResultSignature, type InferenceResultBody } from '../worker/result-signature.js';
import type { ResultBody, ResultResponse } from '../inference.dto.js';
import { InferenceIndex } from '../inference.index.js';
import { INFERENCE_REJECTIONS } from '../jobs/inference.events.js';
import { jobNotFound } from '../jobs/job-stream.js';
import { decisionPositionOf, runOnJobStream } from '../jobs/job-stream.runner.js';
import { verifyGrant } from '../leases/grant.js';
import type { WorkerState } from '../workers/worker.events.js';
import { decideResult, type ResultDecision } from './result.decider.js';

@Injectable()
export class InferenceResults {
  constructor(
    private readonly runner: StreamCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(EMBEDDED_LEDGER) private readonly ledger: EmbeddedLedger,
    @Inject(InferenceIndex) private readonly index: InferenceIndex,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async submit(body: ResultBody): Promise<ResultResponse> {
    // A job id the log never requested names no stream to record anything on.
    const location = this.index.jobs.location(body.jobId);
    if (location === undefined) throw jobNotFound(body.jobId);

    // 1. The grant against the ledger's unrevoked log keys; the result signature against the key it names (or,
    //    without a readable kid, the grant subject's). Both synchronous (ledger/compact-jws).
    const keyRing = this.ledger.keyRing;
    const grant = verifyGrant(body.grant, {
      keys: (kid) => (keyRing.isRevoked(kid) ? undefined : keyRing.get(kid)?.publicKey),
      issuer: this.ledger.origin,
      now: this.clock.now(),
    });
    const named = this.signerNamedBy(body);
    const signer = named !== null ? named.signer : grant.ok ? this.index.workers.byId(grant.claims.sub) : undefined;
    const signatureValid = signer !== undefined && verifyResultSignature(body as InferenceResultBody, signer.publicKeyJwk);
    const positions = await decisionPositionOf(this.store, this.index.jobs, location.queryId, body.jobId);

    const principal: Principal = {
      sub: signer?.workerId ?? (grant.ok ? grant.claims.sub : 'unidentified-worker'),
      role: 'worker',
      tenant: location.tenant,
    };
    let decision: ResultDecision | undefined;
    const entries = await runOnJobStream(this.runner, principal, location.queryId, body.jobId, 'InferenceCompleted', (state) => {
      decision = decideResult(
        {
          body,
          grant,
          signer: signer === undefined ? null : { workerId: signer.workerId, revoked: signer.revokedAt !== null || signer.tenant !== location.tenant },
          signatureValid,
          now: this.clock.now().getTime(),
        },
        state,
        positions,
      );
      return decision.events;
    });
    if (decision === undefined) throw new LedgerError('INFERENCE.NOTHING_RECORDED', 'internal', 'No decision was taken');
    const revision = entries[entries.length - 1]!.entry.revision;
    if (!decision.accepted) {
      throw new LedgerError(decision.code, INFERENCE_REJECTIONS[decision.code], decision.reason, { jobId: body.jobId, recorded: true, revision });
    }
    return {
      queryId: location.queryId,
      nodeId: location.nodeId,
      jobId: body.jobId,
      outcome: inferenceOutcome(decision.events, decision.ensemble),
      revision,
    };
  }

  /**
   * Who signed, when the signature's `kid` says: the registered worker whose key it names (an unknown kid:
   * nobody). Null without a readable kid: the signer is then the grant's subject (whose key must verify it).
   */
  private signerNamedBy(body: ResultBody): { signer: WorkerState | undefined } | null {
    const kid = compactJwsHeader(body.signature)?.kid;
    if (kid === undefined) return null;
    const key = this.index.workers.byKid(kid);
    return { signer: key === undefined ? undefined : this.index.workers.byId(key.workerId) };
  }
}
