/**
 * Grant verification on the worker's side (docs/policy-gate.md, "Grants"): a grant is a JWT signed with the
 * ledger's log key (EdDSA, `kid` in the header, verifiable with `/.well-known/jwks.json`). The worker checks
 * it BEFORE fetching or loading anything: signature by an unrevoked ledger key, `aud: 'ida-ledger-worker'`,
 * `exp`, `sub` = its own worker id, and the job claims (`job`, `query`, `node`, `model`, `input`) against the
 * leased job. Pure functions over a JWKS (synchronous EdDSA, `ledger/compact-jws`); fetching the JWKS is the
 * caller's (see {@link LedgerKeySet}).
 */
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { verifyJwt, type JwsHeader, type JwtVerification } from '../../ledger/compact-jws.js';
import { ed25519PublicKey } from './ed25519-public-key.js';
import type { JsonValue } from '../../ledger/entry.js';

export const GRANT_AUDIENCE = 'ida-ledger-worker';

export interface GrantClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  jti: string;
  iat: number;
  exp: number;
  job: string;
  query: string;
  node: string;
  tenant: string;
  /** `sha256:<hex>` of the model artifact. */
  model: string;
  /** `sha256:<hex>` of RFC 8785 JSON of the job input. */
  input: string;
  /** `sha256:<hex>` of the policy set the decision used. */
  policy: string;
  /** Global position of the job's `PolicyDecisionRecorded`. */
  decision: number;
}

/** The job part of a lease response (`POST /v1/inference/leases`). */
export interface LeasedJob {
  jobId: string;
  queryId: string;
  nodeId: string;
  proxyVersionId: string;
  artifactSha256: string;
  input: JsonValue;
  inputDigest: string;
}

/** A key of the ledger's JWKS (`/.well-known/jwks.json`). */
export interface LedgerJwk {
  kty: string;
  crv?: string;
  x?: string;
  kid?: string;
  alg?: string;
  use?: string;
  validFrom?: string;
  revokedAt?: string;
}

export interface LedgerJwks {
  keys: LedgerJwk[];
}

export type GrantFailureCode =
  /** Not a JWT, or a claim is missing / of the wrong type. */
  | 'GRANT_MALFORMED'
  /** No unrevoked ledger key with the header's kid. */
  | 'GRANT_KEY_UNKNOWN'
  | 'GRANT_SIGNATURE_INVALID'
  | 'GRANT_AUDIENCE_INVALID'
  | 'GRANT_EXPIRED'
  /** `sub` is another worker. */
  | 'GRANT_SUBJECT_MISMATCH'
  /** `job`/`query`/`node`/`model`/`input` differ from the leased job. */
  | 'GRANT_JOB_MISMATCH';

export type GrantCheck = { ok: true; claims: GrantClaims } | { ok: false; code: GrantFailureCode; reason: string };

export interface VerifyGrantOptions {
  /** Ledger JWKS: only unrevoked Ed25519 keys are trusted. Read on first use (a changed JWKS is a new object). */
  jwks: LedgerJwks;
  workerId: string;
  job: LeasedJob;
  now: Date;
  /** Seconds of clock skew tolerated on `exp`/`nbf` (default 0). */
  clockToleranceSeconds?: number;
  /** When given, `iss` must equal it (the ledger's origin). */
  issuer?: string;
}

/** The keys a worker trusts: Ed25519 keys of the JWKS without `revokedAt`. */
export function trustedLedgerKeys(jwks: LedgerJwks): JWK[] {
  return (Array.isArray(jwks?.keys) ? jwks.keys : [])
    .filter((k) => k.kty === 'OKP' && k.crv === 'Ed25519' && typeof k.x === 'string' && typeof k.kid === 'string' && k.revokedAt === undefined)
    .map((k) => ({ kty: 'OKP', crv: 'Ed25519', x: k.x!, kid: k.kid!, alg: 'EdDSA', use: 'sig' }));
}

const STRING_CLAIMS = ['iss', 'sub', 'jti', 'job', 'query', 'node', 'tenant', 'model', 'input', 'policy'] as const;

/**
 * A verified grant's claims, typed: every binding a non-empty string and `decision` a position. Otherwise the
 * reason. Both sides check a grant's claims with it (the worker before it runs, the ledger before it accepts).
 */
export function grantClaimsOf(payload: Readonly<Record<string, unknown>>): GrantClaims | string {
  for (const claim of STRING_CLAIMS) {
    if (typeof payload[claim] !== 'string' || payload[claim] === '') return `the grant's "${claim}" claim is missing or not a string`;
  }
  if (!Number.isSafeInteger(payload['decision'])) return 'the grant\'s "decision" claim is not a position';
  return payload as unknown as GrantClaims;
}

function fail(code: GrantFailureCode, reason: string): GrantCheck {
  return { ok: false, code, reason };
}

/**
 * The trusted keys of a JWKS object by kid, built once per object: a worker verifies every grant against the JWKS
 * it fetched, so it imports the ledger's key once, not once per job. A JWKS is read when first used: new keys (or
 * a revocation) come as a new object, as a worker's re-fetch gives.
 */
const keySets = new WeakMap<LedgerJwks, Map<string, KeyObject>>();

function keySetOf(jwks: LedgerJwks): Map<string, KeyObject> {
  let keys = keySets.get(jwks);
  if (keys === undefined) {
    keys = new Map();
    for (const jwk of trustedLedgerKeys(jwks)) {
      try {
        keys.set(jwk.kid!, ed25519PublicKey(jwk.x!));
      } catch {
        // A key that is not an Ed25519 public key verifies nothing; the grant it signed is refused as unknown.
      }
    }
    keySets.set(jwks, keys);
  }
  return keys;
}

/** The key for a grant's header, as a JWKS lookup does it: by `kid`; without one, the only trusted key. */
function keyFor(keys: Map<string, KeyObject>, header: JwsHeader): KeyObject | undefined {
  if (header.kid !== undefined) return keys.get(header.kid);
  return keys.size === 1 ? keys.values().next().value : undefined;
}

export function verifyGrant(grant: string, options: VerifyGrantOptions): GrantCheck {
  if (typeof grant !== 'string' || grant.split('.').length !== 3) return fail('GRANT_MALFORMED', 'the grant is not a compact JWS');
  const keys = options.jwks !== null && typeof options.jwks === 'object' ? keySetOf(options.jwks) : new Map<string, KeyObject>();
  const checked = verifyJwt(grant, (header) => keyFor(keys, header), {
    audience: GRANT_AUDIENCE,
    now: options.now,
    clockToleranceSeconds: options.clockToleranceSeconds ?? 0,
    requiredClaims: ['exp', 'iat', 'sub', 'jti'],
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
  });
  if (!checked.ok) return classify(checked);
  const claims = grantClaimsOf(checked.claims);
  if (typeof claims === 'string') return fail('GRANT_MALFORMED', claims);
  if (claims.sub !== options.workerId) return fail('GRANT_SUBJECT_MISMATCH', `the grant is for worker ${claims.sub}, not ${options.workerId}`);
  const job = options.job;
  const pairs: [string, string, string][] = [
    ['job', claims.job, job.jobId],
    ['query', claims.query, job.queryId],
    ['node', claims.node, job.nodeId],
    ['model', claims.model, job.artifactSha256],
    ['input', claims.input, job.inputDigest],
  ];
  for (const [name, granted, leased] of pairs) {
    if (granted !== leased) return fail('GRANT_JOB_MISMATCH', `grant ${name} ${granted} differs from the leased job's ${leased}`);
  }
  return { ok: true, claims };
}

function classify(refused: Extract<JwtVerification, { ok: false }>): GrantCheck {
  switch (refused.failure) {
    case 'expired':
      return fail('GRANT_EXPIRED', refused.reason);
    case 'claim':
      if (refused.claim === 'aud') return fail('GRANT_AUDIENCE_INVALID', refused.reason);
      if (refused.claim === 'nbf') return fail('GRANT_EXPIRED', `not yet valid: ${refused.reason}`);
      return fail('GRANT_MALFORMED', refused.reason);
    case 'key':
      return fail('GRANT_KEY_UNKNOWN', 'no trusted ledger key matches the grant');
    case 'signature':
    case 'algorithm':
      return fail('GRANT_SIGNATURE_INVALID', refused.reason);
    case 'malformed':
      return fail('GRANT_MALFORMED', refused.reason);
    default: {
      const unreachable: never = refused.failure;
      throw new Error(`unhandled JWT failure ${String(unreachable)}`);
    }
  }
}
