import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { SignedEntry, UnsignedEntry } from './entry.js';
import type { SigningKey } from './signing-key.js';

/**
 * Entry signatures (DESIGN §5): a compact JWS with EdDSA over the RFC 8785 bytes of the entry without `sig`,
 * using the RFC 7797 unencoded, detached payload: `<b64url protected header>..<b64url signature>`.
 * Ed25519 is deterministic, so node:crypto computes exactly the signature jose would; jose verifies it
 * (see entry-signature.unit.spec.ts).
 */

const headerCache = new Map<string, string>();

/** The protected header for a key id: {"alg":"EdDSA","b64":false,"crit":["b64"],"kid":…}, base64url. */
export function protectedHeaderFor(kid: string): string {
  let header = headerCache.get(kid);
  if (header === undefined) {
    header = Buffer.from(JSON.stringify({ alg: 'EdDSA', b64: false, crit: ['b64'], kid })).toString('base64url');
    // Verifiers call this with kids read from entries: bound the cache so a hostile export cannot grow it.
    if (headerCache.size >= 1024) headerCache.clear();
    headerCache.set(kid, header);
  }
  return header;
}

/** The bytes the JWS signs: ASCII(protected) || '.' || JCS(entry without sig). */
export function signingInput(protectedHeader: string, payload: string): Buffer {
  return Buffer.from(`${protectedHeader}.${payload}`, 'utf8');
}

function withoutSig(entry: UnsignedEntry | SignedEntry): UnsignedEntry {
  if (!('sig' in entry)) return entry;
  const { sig: _sig, ...rest } = entry;
  return rest;
}

/** Signs synchronously (the fastest single-threaded path). */
export function signEntry(entry: UnsignedEntry, key: SigningKey): SignedEntry {
  if (entry.kid !== key.kid) throw new Error(`entry kid ${entry.kid} is not the signing key ${key.kid}`);
  const header = protectedHeaderFor(key.kid);
  const unsigned = withoutSig(entry); // a re-signed entry must not sign its old `sig`
  const signature = cryptoSign(null, signingInput(header, canonicalJson(unsigned)), key.privateKey);
  return { ...unsigned, sig: `${header}..${signature.toString('base64url')}` };
}

/**
 * Signs on libuv's thread pool, so that many signatures in flight use every core. `payload`: `canonicalJson` of
 * the entry, when the caller has it already (`EntrySigner`); ignored for an entry that still carries a `sig`.
 */
export function signEntryAsync(entry: UnsignedEntry, key: SigningKey, payload?: string): Promise<SignedEntry> {
  if (entry.kid !== key.kid) return Promise.reject(new Error(`entry kid ${entry.kid} is not the signing key ${key.kid}`));
  const header = protectedHeaderFor(key.kid);
  const unsigned = withoutSig(entry);
  let input: Buffer;
  try {
    input = signingInput(header, payload !== undefined && unsigned === entry ? payload : canonicalJson(unsigned));
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    cryptoSign(null, input, key.privateKey, (error, signature) => {
      if (error) reject(error);
      else resolve({ ...unsigned, sig: `${header}..${signature.toString('base64url')}` });
    });
  });
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Parses and checks the JWS header of an entry signature, then verifies it with `publicKey`. */
export function verifyEntrySignature(entry: SignedEntry, publicKey: KeyObject): SignatureCheck {
  const parts = typeof entry.sig === 'string' ? entry.sig.split('.') : [];
  if (parts.length !== 3 || parts[1] !== '') return { ok: false, reason: 'signature is not a detached compact JWS' };
  const [header, , signature] = parts as [string, string, string];
  let parsed: { alg?: unknown; b64?: unknown; crit?: unknown; kid?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'JWS protected header is not JSON' };
  }
  // `null` parses too, and would make the checks below throw instead of answering.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { ok: false, reason: 'JWS protected header is not a JSON object' };
  if (parsed.alg !== 'EdDSA') return { ok: false, reason: 'JWS alg is not EdDSA' };
  if (parsed.b64 !== false || !Array.isArray(parsed.crit) || !parsed.crit.includes('b64'))
    return { ok: false, reason: 'JWS is not an unencoded (b64=false) payload' };
  if (parsed.kid !== entry.kid) return { ok: false, reason: 'JWS kid differs from the entry kid' };
  // Only the exact bytes this ledger writes are accepted: base64url is malleable in its last character.
  if (header !== protectedHeaderFor(entry.kid)) return { ok: false, reason: 'JWS protected header is not canonical' };
  const signatureBytes = Buffer.from(signature, 'base64url');
  if (signatureBytes.length !== 64 || signatureBytes.toString('base64url') !== signature)
    return { ok: false, reason: 'JWS signature is not canonical base64url Ed25519' };
  const input = signingInput(header, canonicalJson(withoutSig(entry)));
  const valid = cryptoVerify(null, input, publicKey, signatureBytes);
  return valid ? { ok: true } : { ok: false, reason: 'signature does not verify' };
}
