/**
 * Compact JWS (RFC 7515 §7.1) and JWT (RFC 7519) with EdDSA over Ed25519, on node:crypto's one-shot `sign` /
 * `verify`: synchronous, without the hop to libuv's thread pool. The policy gate signs or verifies four of
 * these per job (the grant, twice; the result signature, twice). jose 6 does EdDSA through WebCrypto, whose
 * every call waits for a pool thread: on a 2-core machine that wait made the gate's tail (docs/performance.md).
 * Ed25519 is deterministic, so a signature made here is byte for byte the one jose makes, and jose verifies
 * what this module signs — as DESIGN §5 allows for entries (compact-jws.unit.spec.ts checks both ways).
 *
 * Verification is never looser than jose's `compactVerify` / `jwtVerify` with `algorithms: ['EdDSA']`, and
 * stricter where a ledger can afford it: no `crit` (no extension is understood here) and no `b64`; each part
 * canonical base64url; a 64-byte signature; header and claims strict UTF-8 JSON objects. The JWT claim checks
 * (`iss`, `aud`, `iat`/`nbf`/`exp` types and times, clock tolerance, required claims) follow jose's
 * `validateClaimsSet`. Plain TypeScript: the worker and the service share it.
 */
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';

/** A protected header this module signs or accepts: `alg` is EdDSA; `kid` and `typ` are strings when present. */
export interface JwsHeader {
  alg: 'EdDSA';
  kid?: string;
  typ?: string;
  readonly [member: string]: unknown;
}

/** Why a JWS was refused: not a well-formed compact JWS, another algorithm, no key for it, a bad signature. */
export type JwsFailure = 'malformed' | 'algorithm' | 'key' | 'signature';

export type JwsVerification = { ok: true; header: JwsHeader; payload: Buffer } | { ok: false; failure: JwsFailure; reason: string };

/** The key that must have signed a JWS with this header; `undefined`: no such key (refused as `key`). */
export type JwsKeyLookup = (header: JwsHeader) => KeyObject | undefined;

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `<b64url header>.<b64url payload>.<b64url Ed25519 signature>`; the header's `alg` is EdDSA. */
export function signCompactJws(header: { kid?: string; typ?: string }, payload: string | Uint8Array, privateKey: KeyObject): string {
  const input = `${Buffer.from(JSON.stringify({ alg: 'EdDSA', ...header })).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  return `${input}.${cryptoSign(null, Buffer.from(input, 'latin1'), privateKey).toString('base64url')}`;
}

function decodePart(part: string): Buffer | undefined {
  if (!BASE64URL.test(part)) return undefined;
  const bytes = Buffer.from(part, 'base64url');
  // Buffer ignores stray trailing bits; a second spelling of the same bytes is refused.
  return bytes.toString('base64url') === part ? bytes : undefined;
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

type Decoded = { ok: true; header: JwsHeader; payload: Buffer; input: string; signature: Buffer } | { ok: false; failure: JwsFailure; reason: string };

function decode(jws: unknown): Decoded {
  const malformed = (reason: string): Decoded => ({ ok: false, failure: 'malformed', reason });
  if (typeof jws !== 'string') return malformed('not a string');
  const first = jws.indexOf('.');
  const second = jws.indexOf('.', first + 1);
  if (first < 0 || second < 0 || jws.indexOf('.', second + 1) >= 0) return malformed('not a compact JWS (three parts)');
  const headerBytes = decodePart(jws.slice(0, first));
  const payload = decodePart(jws.slice(first + 1, second));
  const signature = decodePart(jws.slice(second + 1));
  if (headerBytes === undefined || payload === undefined || signature === undefined) return malformed('a part is not canonical base64url');
  const header = parseJsonObject(headerBytes);
  if (header === undefined) return malformed('the protected header is not a JSON object');
  if (header['alg'] !== 'EdDSA') return { ok: false, failure: 'algorithm', reason: `alg ${JSON.stringify(header['alg'])} is not EdDSA` };
  if ('crit' in header || 'b64' in header) return malformed('the protected header asks for an extension (crit, b64)');
  if (header['kid'] !== undefined && typeof header['kid'] !== 'string') return malformed('kid is not a string');
  if (header['typ'] !== undefined && typeof header['typ'] !== 'string') return malformed('typ is not a string');
  if (signature.length !== 64) return malformed('the signature is not 64 bytes');
  return { ok: true, header: header as JwsHeader, payload, input: jws.slice(0, second), signature };
}

/** The protected header of a well-formed EdDSA compact JWS, unverified (e.g. to find its `kid`); else undefined. */
export function compactJwsHeader(jws: unknown): JwsHeader | undefined {
  const decoded = decode(jws);
  return decoded.ok ? decoded.header : undefined;
}

/** Checks a compact JWS against the key `keyFor` names for its header. Never throws. */
export function verifyCompactJws(jws: unknown, keyFor: JwsKeyLookup): JwsVerification {
  const decoded = decode(jws);
  if (!decoded.ok) return decoded;
  const key = keyFor(decoded.header);
  if (key === undefined || key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') return { ok: false, failure: 'key', reason: 'no Ed25519 key for the header' };
  if (!cryptoVerify(null, Buffer.from(decoded.input, 'latin1'), key, decoded.signature)) return { ok: false, failure: 'signature', reason: 'the signature does not verify' };
  return { ok: true, header: decoded.header, payload: decoded.payload };
}

/** A JWT: {@link signCompactJws} over the JSON of `claims`, `typ: JWT`. */
export function signJwt(claims: Readonly<Record<string, unknown>>, kid: string, privateKey: KeyObject): string {
  return signCompactJws({ kid, typ: 'JWT' }, JSON.stringify(claims), privateKey);
}

export interface JwtExpectations {
  /** The time to check `exp` / `nbf` against. */
  now: Date;
  /** When set, `aud` (a string, or an array) must hold it. */
  audience?: string;
  /** When set, `iss` must equal it. */
  issuer?: string;
  /** Claims that must be present. */
  requiredClaims?: readonly string[];
  /** Seconds of clock skew tolerated on `exp` and `nbf` (default 0). */
  clockToleranceSeconds?: number;
}

/** `expired`: `exp` has passed; `claim`: a claim missing, of the wrong type or value (named in `claim`). */
export type JwtFailure = JwsFailure | 'expired' | 'claim';

export type JwtVerification =
  | { ok: true; header: JwsHeader; claims: Record<string, unknown> }
  | { ok: false; failure: JwtFailure; reason: string; claim?: string };

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * Verifies a JWT's signature ({@link verifyCompactJws}), then its claims as jose's `jwtVerify` does. Never throws
 * on what it is given to check; a negative or non-finite `clockToleranceSeconds` is the caller's bug (RangeError).
 */
export function verifyJwt(jwt: unknown, keyFor: JwsKeyLookup, expect: JwtExpectations): JwtVerification {
  const verified = verifyCompactJws(jwt, keyFor);
  if (!verified.ok) return verified;
  const claims = parseJsonObject(verified.payload);
  if (claims === undefined) return { ok: false, failure: 'malformed', reason: 'the claims set is not a JSON object' };
  const claimFailure = (claim: string, reason: string): JwtVerification => ({ ok: false, failure: 'claim', claim, reason });
  // jose's order: presence (issuer first, then audience, then the required claims from the last), then values.
  const required = [...(expect.requiredClaims ?? []), ...(expect.audience === undefined ? [] : ['aud']), ...(expect.issuer === undefined ? [] : ['iss'])];
  for (const claim of new Set(required.reverse())) if (!Object.hasOwn(claims, claim)) return claimFailure(claim, `the "${claim}" claim is missing`);
  if (expect.issuer !== undefined && claims['iss'] !== expect.issuer) return claimFailure('iss', 'unexpected "iss" claim value');
  if (expect.audience !== undefined) {
    const aud = claims['aud'];
    if (!(aud === expect.audience || (Array.isArray(aud) && aud.includes(expect.audience)))) return claimFailure('aud', 'unexpected "aud" claim value');
  }
  const tolerance = expect.clockToleranceSeconds ?? 0;
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) throw new RangeError('clockToleranceSeconds must be a finite number ≥ 0');
  const now = epochSeconds(expect.now);
  const notNumber = (claim: string) => claims[claim] !== undefined && typeof claims[claim] !== 'number';
  if (notNumber('iat')) return claimFailure('iat', 'the "iat" claim must be a number');
  if (notNumber('nbf')) return claimFailure('nbf', 'the "nbf" claim must be a number');
  const nbf = claims['nbf'] as number | undefined;
  if (nbf !== undefined && nbf > now + tolerance) return claimFailure('nbf', 'the token is not valid yet ("nbf")');
  if (notNumber('exp')) return claimFailure('exp', 'the "exp" claim must be a number');
  const exp = claims['exp'] as number | undefined;
  if (exp !== undefined && exp <= now - tolerance) return { ok: false, failure: 'expired', claim: 'exp', reason: 'the token has expired ("exp")' };
  return { ok: true, header: verified.header, claims };
}
