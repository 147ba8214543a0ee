/** `PublishPolicySet` (CQRS command) and its thin handler: stream `policy-<tenant>` through the shared runner. */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  StreamCommandRunner,
  type CommandEnvelope,
  type StreamCommandOutcome,
} from '../../common/commands/stream-command.runner.js';
import { LedgerError } from '../../common/ledger-error.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../ledger/ledger.tokens.js';
import { CEDAR_VERSION } from '../cedar.js';
import { parsePolicySetPublished, POLICY_SET_PUBLISHED, policyStream } from '../policy-set.events.js';
import { PolicySetIndex } from '../policy-set.index.js';
import { policySetDigest, type PolicySetContent } from '../policy-set.js';
import { decidePublishPolicySet, rehydrateOwnPolicySet } from './publish-policy-set.command.js';
import type { PolicySetResponse, PublishPolicySetBody } from './publish-policy-set.dto.js';

export class PublishPolicySet extends Command<StreamCommandOutcome<PolicySetResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly body: PublishPolicySetBody,
  ) {
    super();
  }
}

@CommandHandler(PublishPolicySet)
export class PublishPolicySetHandler implements ICommandHandler<PublishPolicySet> {
  constructor(
    private readonly runner: StreamCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PolicySetIndex) private readonly index: PolicySetIndex,
  ) {}

  async execute({ envelope, body }: PublishPolicySet): Promise<StreamCommandOutcome<PolicySetResponse>> {
    const tenant = envelope.principal.tenant;
    const stream = policyStream(tenant);
    const schema = body.schema ?? this.index.inForce(tenant)?.schema;
    // Only before start-up finished (it publishes the shipped set before serving).
    if (schema === undefined) throw new LedgerError('POLICY.NOT_READY', 'unavailable', 'No policy set is in force yet; retry shortly');
    const content: PolicySetContent = { schema, policies: body.policies };
    const outcome = await this.runner.run(envelope, {
      stream,
      mode: 'upsert',
      aggregate: 'Policy set',
      notFound: () => new LedgerError('POLICY.NOT_FOUND', 'not_found', 'Policy set not found'),
      rehydrate: (entries) => rehydrateOwnPolicySet(entries),
      exists: () => true,
      eventType: POLICY_SET_PUBLISHED,
      sameRequest: (entry) => entry.data['digest'] === digestOrNull(content),
      decide: (current) => decidePublishPolicySet(content, current, CEDAR_VERSION),
      respond: (entries) => {
        const last = entries[entries.length - 1]!;
        const data = parsePolicySetPublished(last);
        // The position is not in a signed entry; it is filled in below, from the log.
        return { ...data, scope: 'tenant' as const, position: -1, revision: last.revision, publishedAt: last.meta.recordedAt };
      },
    });
    // Decisions after this response use the new set (read-your-writes for the engine as for GET .../current).
    await this.index.refresh(this.store, stream);
    const [recorded] = await this.store.readStream(stream, outcome.body.revision);
    if (recorded === undefined) throw new LedgerError('POLICY.NOT_FOUND', 'internal', `${stream}@${outcome.body.revision} vanished`);
    return { ...outcome, body: { ...outcome.body, position: recorded.position } };
  }
}

/** The digest this request would record, for the Idempotency-Key check (null when the content is not digestible). */
function digestOrNull(content: PolicySetContent): string | null {
  try {
    return policySetDigest(content);
  } catch {
    return null;
  }
}
