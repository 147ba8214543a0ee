/**
 * Start-up of the policy gate, before the service serves (docs/policy-gate.md "Policy sets"): rebuild the
 * index of sets in force from the log, publish the shipped set on `policy-system` when its digest differs from
 * the last one published there, and prepare + warm Cedar so the first decision does not pay for it.
 * The shipped set was loaded and validated before Nest started (`createApp`): an invalid set never gets here.
 */
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import { ID_GENERATOR, type IdGenerator } from '../common/ids.js';
import type { EventStore } from '../ledger/event-store.port.js';
import { SYSTEM_TENANT } from '../ledger/key-lifecycle.js';
import { EVENT_STORE } from '../ledger/ledger.tokens.js';
import { CedarPolicyEngine } from './cedar-policy-engine.js';
import { CEDAR_VERSION } from './cedar.js';
import { POLICY_SYSTEM_STREAM, policySetPublished } from './policy-set.events.js';
import { PolicySetIndex } from './policy-set.index.js';
import type { ValidatedPolicySet } from './policy-set.js';

/** Injection token of the set loaded from `POLICY_DIR` at start. */
export const SHIPPED_POLICY_SET = 'ida-ledger:ShippedPolicySet';

/** The ledger's own actor, as on its key entries. */
const SYSTEM_ACTOR = { sub: 'ida-ledger', role: 'system' as const };

/**
 * Appends `PolicySetPublished {source: 'startup'}` on `policy-system` unless the last set published there has
 * the same digest; then brings the index up to date. Returns whether it appended, and the set's position.
 */
export async function publishShippedPolicySet(
  store: EventStore,
  index: PolicySetIndex,
  shipped: ValidatedPolicySet,
  deps: { now(): Date; newId(): string },
): Promise<{ published: boolean; position: number }> {
  const latest = index.systemSet();
  if (latest !== null && latest.digest === shipped.digest) return { published: false, position: latest.position };
  const existing = await store.readStream(POLICY_SYSTEM_STREAM);
  const commandId = deps.newId();
  await store.append({
    stream: POLICY_SYSTEM_STREAM,
    expectedRevision: existing.length === 0 ? 'no_stream' : existing[existing.length - 1]!.entry.revision,
    events: [policySetPublished(shipped, 'startup', CEDAR_VERSION)],
    meta: {
      tenant: SYSTEM_TENANT,
      actor: SYSTEM_ACTOR,
      correlationId: commandId,
      causationId: null,
      commandId,
      recordedAt: deps.now().toISOString(),
    },
  });
  await index.refresh(store, POLICY_SYSTEM_STREAM);
  return { published: true, position: index.systemSet()!.position };
}

@Injectable()
export class PolicyStartup implements OnModuleInit {
  private readonly logger = new Logger('PolicyGate');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PolicySetIndex) private readonly index: PolicySetIndex,
    @Inject(CedarPolicyEngine) private readonly engine: CedarPolicyEngine,
    @Inject(SHIPPED_POLICY_SET) private readonly shipped: ValidatedPolicySet,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.index.rebuild(this.store);
    const { published, position } = await publishShippedPolicySet(this.store, this.index, this.shipped, {
      now: () => this.clock.now(),
      newId: () => this.ids.newId(),
    });
    this.logger.log(
      published
        ? `Published policy set ${this.shipped.digest} on ${POLICY_SYSTEM_STREAM} at position ${position}`
        : `Policy set ${this.shipped.digest} is already the latest on ${POLICY_SYSTEM_STREAM} (position ${position})`,
    );
    // A tenant's set that no longer parses (e.g. under another Cedar version) does not stop the service: its
    // decisions deny, with the reason in every decision. Say so loudly once.
    for (const error of this.engine.warm(this.index.allInForce())) this.logger.error(`Policy set cannot be prepared: ${error}`);
  }
}
