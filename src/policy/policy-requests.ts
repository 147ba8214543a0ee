/**
 * Builders of the requests the ledger sends to the policy engine, from plain inputs (docs/policy-gate.md):
 * entity types of the `IdaLedger` namespace, decimals scaled to permille (Cedar's Long has no fractions),
 * unknown values (null) left out so policies must test them with `has`.
 *
 * The builders never throw. An input that is not what the schema expects (a fidelity of NaN or 1.7, a negative
 * depth) is recorded as given, as a string, where the schema wants a Long: Cedar then refuses the request
 * against the schema, the engine denies with Cedar's message, and re-evaluating the recorded request denies
 * again. Dropping the value instead would turn an invalid drift into an unknown one, which no forbid catches.
 * Plain TypeScript, no Nest.
 */
import type { PolicyAttributeValue, PolicyEntity, PolicyEntityUid, PolicyRequest } from './policy-engine.port.js';
import { POLICY_NAMESPACE } from './policy-set.js';

export const ENTITY_TYPES = {
  tenant: `${POLICY_NAMESPACE}::Tenant`,
  pipeline: `${POLICY_NAMESPACE}::Pipeline`,
  proxyVersion: `${POLICY_NAMESPACE}::ProxyVersion`,
  action: `${POLICY_NAMESPACE}::Action`,
} as const;

export const POLICY_ACTIONS = ['RunInference', 'PromoteProxy'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

export const DATA_CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];

/** `serving`: the answer may be used; `shadow`: run beside the serving path, for comparison only. */
export type InferenceMode = 'serving' | 'shadow';

/** A proxy version as the registry describes it (decimals 0..1 as recorded; null when unknown). */
export interface PolicyProxyInput {
  proxyVersionId: string;
  stage: string;
  fidelity: number | null;
  drift: number | null;
  artifactSha256: string;
  /** The tenant that owns the proxy; default: the caller's tenant. */
  tenant?: string;
}

export interface RunInferenceInput {
  tenant: string;
  /** The `sub` of the caller (the pipeline that assigns the node). */
  pipelineSub: string;
  proxy: PolicyProxyInput;
  context: {
    taskClass: string | null;
    /** Depth of the node (root = 0). */
    depth: number;
    dataClassification: DataClassification;
    /** Default `serving`: the only mode the assign command knows today. */
    mode?: InferenceMode;
  };
}

export interface PromoteProxyInput {
  tenant: string;
  actorSub: string;
  actorRole: string;
  proxy: PolicyProxyInput;
  from: string;
  to: string;
}

export function actionUid(action: PolicyAction): PolicyEntityUid {
  return { type: ENTITY_TYPES.action, id: action };
}

/** `IdaLedger::Pipeline::"<sub>"` in `IdaLedger::Tenant::"<tenant>"`, action RunInference, the proxy version. */
export function runInferenceRequest(input: RunInferenceInput): PolicyRequest {
  const { principal, entities } = principalAndProxy(input.tenant, input.pipelineSub, input.proxy);
  return {
    principal,
    action: actionUid('RunInference'),
    resource: entities[entities.length - 1]!.uid,
    context: {
      taskClass: input.context.taskClass ?? '',
      depth: nonNegativeInteger(input.context.depth),
      dataClassification: input.context.dataClassification,
      mode: input.context.mode ?? 'serving',
    },
    entities,
  };
}

/** The PromoteProxy request (schema only: no command asks it yet). */
export function promoteProxyRequest(input: PromoteProxyInput): PolicyRequest {
  const { principal, entities } = principalAndProxy(input.tenant, input.actorSub, input.proxy);
  return {
    principal,
    action: actionUid('PromoteProxy'),
    resource: entities[entities.length - 1]!.uid,
    context: { from: input.from, to: input.to, role: input.actorRole },
    entities,
  };
}

/** Entities in a fixed order (tenants, the principal, the resource last) so equal inputs give equal digests. */
function principalAndProxy(tenant: string, sub: string, proxy: PolicyProxyInput): { principal: PolicyEntityUid; entities: PolicyEntity[] } {
  const tenantUid: PolicyEntityUid = { type: ENTITY_TYPES.tenant, id: tenant };
  const owner = proxy.tenant ?? tenant;
  const ownerUid: PolicyEntityUid = { type: ENTITY_TYPES.tenant, id: owner };
  const principal: PolicyEntityUid = { type: ENTITY_TYPES.pipeline, id: sub };
  const attrs: { [key: string]: PolicyAttributeValue } = {
    stage: proxy.stage,
    artifactSha256: proxy.artifactSha256,
    tenant: { __entity: { ...ownerUid } },
  };
  if (proxy.fidelity !== null) attrs['fidelityPermille'] = permille(proxy.fidelity);
  if (proxy.drift !== null) attrs['driftPermille'] = permille(proxy.drift);
  const entities: PolicyEntity[] = [
    { uid: tenantUid, attrs: {}, parents: [] },
    ...(owner === tenant ? [] : [{ uid: ownerUid, attrs: {}, parents: [] }]),
    { uid: principal, attrs: {}, parents: [{ ...tenantUid }] },
    { uid: { type: ENTITY_TYPES.proxyVersion, id: proxy.proxyVersionId }, attrs, parents: [] },
  ];
  return { principal, entities };
}

/**
 * A decimal in [0, 1] as an integer number of thousandths, rounded to the nearest (0.8 → 800, and binary
 * noise such as 0.1 + 0.7 = 0.7999999999999999 → 800 too). Anything else stays a string: see the module comment.
 */
export function permille(value: number): PolicyAttributeValue {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) return String(value);
  return Math.round(value * 1000);
}

function nonNegativeInteger(value: number): PolicyAttributeValue {
  return Number.isSafeInteger(value) && value >= 0 ? value : String(value);
}
