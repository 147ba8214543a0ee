/**
 * Recalibrate a proxy against fresh human answers: `agrees` per sample is answer equality after trimming and
 * case-folding, `agreement` = agreeing / total. Below the tenant's minAgreement, a serving proxy (shadow or
 * production) is demoted to candidate in the same append, so no reader ever sees the failed recalibration
 * without its consequence.
 */
import { isId } from '../../../common/domain-values.js';
import {
  DEMOTION_BELOW_MIN_AGREEMENT,
  SERVING_STAGES,
  type ProxyDemoted,
  type ProxyRecalibrated,
  type RecalibrationSample,
} from '../proxy.events.js';
import { invalidProxy, refuseProxy, requireProxy, requireProxyId } from '../proxy.guards.js';
import type { ProxyState } from '../proxy.state.js';

export const MAX_SAMPLES = 10_000;
export const MAX_ANSWER_LENGTH = 10_000;

export interface RecalibrateProxyCommand {
  proxyVersionId: string;
  samples: readonly { queryId: string; nodeId: string; humanAnswer: string; proxyAnswer: string }[];
}

export interface RecalibrateProxyFacts {
  /** The tenant's `promotionGates.minAgreement` now. */
  minAgreement: number;
}

export interface RecalibrateProxyContext {
  newId(): string;
}

/**
 * Trimmed and case-folded. JavaScript has no full case folding; upper- then lower-casing folds the common
 * special cases too ("ß" and "SS" both become "ss"), which plain lower-casing would not.
 */
export function foldAnswer(answer: string): string {
  return answer.trim().toUpperCase().toLowerCase();
}

export function decideRecalibrateProxy(
  command: RecalibrateProxyCommand,
  state: ProxyState | null,
  facts: RecalibrateProxyFacts,
  ctx: RecalibrateProxyContext,
): [ProxyRecalibrated] | [ProxyRecalibrated, ProxyDemoted] {
  const proxyVersionId = requireProxyId(command.proxyVersionId, 'proxyVersionId');
  const given = command.samples;
  if (!Array.isArray(given) || given.length === 0 || given.length > MAX_SAMPLES) {
    throw invalidProxy('samples', `must hold 1..${MAX_SAMPLES} samples`);
  }
  const samples: RecalibrationSample[] = given.map((s, i) => {
    if (!isId(s?.queryId)) throw invalidProxy(`samples[${i}].queryId`, 'must be an id');
    if (!isId(s.nodeId)) throw invalidProxy(`samples[${i}].nodeId`, 'must be an id');
    for (const field of ['humanAnswer', 'proxyAnswer'] as const) {
      if (typeof s[field] !== 'string' || s[field].length > MAX_ANSWER_LENGTH) {
        throw invalidProxy(`samples[${i}].${field}`, `must be a string of at most ${MAX_ANSWER_LENGTH} characters`);
      }
    }
    return {
      queryId: s.queryId,
      nodeId: s.nodeId,
      humanAnswer: s.humanAnswer,
      proxyAnswer: s.proxyAnswer,
      agrees: foldAnswer(s.humanAnswer) === foldAnswer(s.proxyAnswer),
    };
  });

  const proxy = requireProxy(state, proxyVersionId);
  if (proxy.stage === 'retired') throw refuseProxy('PROXY.RETIRED', `Proxy ${proxyVersionId} is retired`, { proxyVersionId });

  const agreement = samples.filter((s) => s.agrees).length / samples.length;
  const { minAgreement } = facts;
  const recalibrated: ProxyRecalibrated = {
    type: 'ProxyRecalibrated',
    schema: 1,
    data: { recalibrationId: ctx.newId(), samples, agreement, minAgreement },
  };
  const serving = (SERVING_STAGES as readonly string[]).includes(proxy.stage);
  if (!serving || agreement >= minAgreement) return [recalibrated];
  return [
    recalibrated,
    {
      type: 'ProxyDemoted',
      schema: 1,
      data: { from: proxy.stage, to: 'candidate', reason: DEMOTION_BELOW_MIN_AGREEMENT, agreement, minAgreement },
    },
  ];
}
