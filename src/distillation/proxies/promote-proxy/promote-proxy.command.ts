/**
 * Promote a proxy one stage up: candidate → shadow → production. The tenant's promotion gates in force at that
 * moment and the time are passed in; every gate check is recorded with the event, so an auditor sees what was
 * required, what was observed and that it passed, without re-deriving anything. A failing gate refuses the
 * promotion (`PROXY.GATES_NOT_MET`, the checks in `details`) and records nothing.
 *
 * Gates: fidelity ≥ minFidelity and drift ≤ maxDrift (both promotions; a proxy without a parent has drift null,
 * which passes; null drift with a parent, or null fidelity, fails); →production also needs the last
 * recalibration to have agreement ≥ minAgreement and to be at most maxRecalibrationAgeDays old.
 */
import type { PromotionGates } from '../../../tenants/tenant-settings.js';
import { PROMOTION_TARGETS, type PromotionCheck, type PromotionTarget, type ProxyPromoted, type ProxyStage } from '../proxy.events.js';
import { invalidProxy, invalidTransition, refuseProxy, requireProxy, requireProxyId } from '../proxy.guards.js';
import type { ProxyState } from '../proxy.state.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface PromoteProxyCommand {
  proxyVersionId: string;
  to: PromotionTarget;
}

export interface PromoteProxyFacts {
  /** The tenant's promotion gates now. */
  gates: PromotionGates;
  now: Date;
}

/** The one stage each promotion starts from. */
const PROMOTES_FROM: Record<PromotionTarget, ProxyStage> = { shadow: 'candidate', production: 'shadow' };

export function decidePromoteProxy(command: PromoteProxyCommand, state: ProxyState | null, facts: PromoteProxyFacts): [ProxyPromoted] {
  const proxyVersionId = requireProxyId(command.proxyVersionId, 'proxyVersionId');
  const to = command.to;
  if (!(PROMOTION_TARGETS as readonly string[]).includes(to)) throw invalidProxy('to', `must be one of ${PROMOTION_TARGETS.join(', ')}`);

  const proxy = requireProxy(state, proxyVersionId);
  if (proxy.stage !== PROMOTES_FROM[to]) throw invalidTransition(proxy.stage, to);

  const checks = promotionChecks(proxy, to, facts.gates, facts.now);
  const gates = { ...facts.gates };
  if (!checks.every((c) => c.passed)) {
    throw refuseProxy('PROXY.GATES_NOT_MET', `Proxy ${proxyVersionId} does not pass the gates for ${to}`, {
      proxyVersionId,
      from: proxy.stage,
      to,
      gates,
      checks,
    });
  }
  return [{ type: 'ProxyPromoted', schema: 1, data: { from: proxy.stage, to, gates, checks } }];
}

/** Every gate check of a promotion to `to`, in a fixed order, each with what was required and observed. */
export function promotionChecks(proxy: ProxyState, to: PromotionTarget, gates: PromotionGates, now: Date): PromotionCheck[] {
  const { fidelity, drift } = proxy.metrics;
  const checks: PromotionCheck[] = [
    { gate: 'minFidelity', required: gates.minFidelity, observed: fidelity, passed: fidelity !== null && fidelity >= gates.minFidelity },
    {
      gate: 'maxDrift',
      required: gates.maxDrift,
      observed: drift,
      // Drift is measured against the parent: none is only acceptable when there is no parent.
      passed: drift === null ? proxy.parentProxyVersionId === null : drift <= gates.maxDrift,
    },
  ];
  switch (to) {
    case 'shadow':
      return checks;
    case 'production': {
      const last = proxy.lastRecalibration;
      const ageDays = last === null ? null : (now.getTime() - Date.parse(last.at)) / DAY_MS;
      checks.push(
        {
          gate: 'minAgreement',
          required: gates.minAgreement,
          observed: last?.agreement ?? null,
          passed: last !== null && last.agreement >= gates.minAgreement,
        },
        {
          gate: 'maxRecalibrationAgeDays',
          required: gates.maxRecalibrationAgeDays,
          observed: ageDays,
          passed: ageDays !== null && Number.isFinite(ageDays) && ageDays <= gates.maxRecalibrationAgeDays,
        },
      );
      return checks;
    }
    default: {
      const unreachable: never = to;
      return unreachable;
    }
  }
}
