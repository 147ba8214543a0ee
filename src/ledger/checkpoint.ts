import { createHash, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { publicKeyFromJwk, type Ed25519PublicJwk, type SigningKey } from './signing-key.js';

/**
 * C2SP tlog-checkpoint bodies (`<origin>\n<size>\n<base64 root>\n`) signed as C2SP signed notes with Ed25519,
 * so that any signed-note verifier (e.g. golang.org/x/mod/sumdb/note) checks them with `noteVerifierKey`.
 */

const ED25519_ALG = 0x01;
const SIGNATURE_PREFIX = '\u2014 '; // "— " (em dash, space) starts every signature line

export interface CheckpointBody {
  origin: string;
  size: number;
  /** Root hash, 32 bytes. */
  rootHash: Buffer;
}

export function formatCheckpointBody(body: CheckpointBody): string {
  if (!isValidKeyName(body.origin)) throw new Error(`invalid checkpoint origin ${JSON.stringify(body.origin)}`);
  // What parseCheckpointBody would refuse must not be signed.
  if (!Number.isSafeInteger(body.size) || body.size < 0) throw new Error(`invalid checkpoint size ${body.size}`);
  if (body.rootHash.length !== 32) throw new Error('checkpoint root hash must be 32 bytes');
  return `${body.origin}\n${body.size}\n${body.rootHash.toString('base64')}\n`;
}

/**
 * A key name: non-empty, valid Unicode, no '+' and no space as Go's unicode.IsSpace knows it (C2SP signed-note;
 * JavaScript's \s lacks U+0085, which Go counts).
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s\u0085+]|\p{Cs}/u.test(name);
}

/** The 4-byte key hash: SHA-256(name || 0x0A || 0x01 || public key)[:4]. */
export function noteKeyId(name: string, publicKey: Uint8Array): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519_ALG]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

function rawPublicKey(jwk: Ed25519PublicJwk): Buffer {
  return Buffer.from(jwk.x, 'base64url');
}

/** `<name>+<hex key id>+<base64(0x01 || public key)>`: the verifier key string of a signed note. */
export function noteVerifierKey(name: string, jwk: Ed25519PublicJwk): string {
  const pub = rawPublicKey(jwk);
  return `${name}+${noteKeyId(name, pub).toString('hex')}+${Buffer.concat([Buffer.from([ED25519_ALG]), pub]).toString('base64')}`;
}

/** Signs a note text (which must end in a newline) and returns the whole signed note. */
export function signNote(text: string, name: string, key: SigningKey): string {
  if (!text.endsWith('\n')) throw new Error('note text must end with a newline');
  const signature = cryptoSign(null, Buffer.from(text, 'utf8'), key.privateKey);
  const keyId = noteKeyId(name, rawPublicKey(key.publicJwk));
  return `${text}\n${SIGNATURE_PREFIX}${name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
}

export function signCheckpoint(body: CheckpointBody, key: SigningKey): string {
  return signNote(formatCheckpointBody(body), body.origin, key);
}

export interface ParsedVerifierKey {
  name: string;
  keyId: Buffer;
  publicKey: KeyObject;
}

export function parseVerifierKey(vkey: string): ParsedVerifierKey {
  // Split at the first two '+' only: the standard base64 key itself may contain '+' (e.g. sum.golang.org's).
  const text = vkey.trim();
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw new Error('verifier key must be <name>+<hex id>+<base64 key>');
  const name = text.slice(0, first);
  const hexId = text.slice(first + 1, second);
  const b64 = text.slice(second + 1);
  if (!isValidKeyName(name)) throw new Error('verifier key name is invalid');
  if (!/^[0-9a-fA-F]{8}$/u.test(hexId)) throw new Error('verifier key id must be 8 hex digits');
  const keyBytes = Buffer.from(b64, 'base64');
  // Buffer's decoder skips characters outside the alphabet; only the exact encoding is accepted.
  if (keyBytes.toString('base64') !== b64) throw new Error('verifier key is not canonical base64');
  if (keyBytes.length !== 33 || keyBytes[0] !== ED25519_ALG) throw new Error('verifier key is not an Ed25519 key');
  const pub = keyBytes.subarray(1);
  const keyId = noteKeyId(name, pub);
  if (keyId.toString('hex') !== hexId.toLowerCase()) throw new Error('verifier key id does not match its key');
  return { name, keyId, publicKey: publicKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }) };
}

export type NoteCheck = { ok: true; body: CheckpointBody } | { ok: false; reason: string };

/** Verifies a signed checkpoint note against one verifier key and parses its body. */
export function verifyCheckpointNote(note: string, verifier: ParsedVerifierKey): NoteCheck {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return { ok: false, reason: 'note has no signature block' };
  const text = note.slice(0, split + 1);
  // As golang.org/x/mod/sumdb/note: every line of the block is "— <name> <base64>\n", the last one included.
  const block = note.slice(split + 2);
  if (!block.endsWith('\n')) return { ok: false, reason: 'malformed signature block' };
  const signatureLines = block.slice(0, -1).split('\n');
  let verified = false;
  for (const line of signatureLines) {
    if (!line.startsWith(SIGNATURE_PREFIX)) return { ok: false, reason: 'malformed signature line' };
    const fields = line.slice(SIGNATURE_PREFIX.length).split(' ');
    if (fields.length !== 2) return { ok: false, reason: 'malformed signature line' };
    const [name, b64] = fields as [string, string];
    const raw = Buffer.from(b64, 'base64');
    if (!isValidKeyName(name) || raw.length < 5 || raw.toString('base64') !== b64)
      return { ok: false, reason: 'malformed signature line' };
    if (name !== verifier.name || !raw.subarray(0, 4).equals(verifier.keyId)) continue; // another signer's
    // A signature that names this key but does not verify is tampering, not another signer: refuse the note.
    if (raw.length !== 68 || !cryptoVerify(null, Buffer.from(text, 'utf8'), verifier.publicKey, raw.subarray(4)))
      return { ok: false, reason: 'invalid signature by the verifier key' };
    verified = true;
  }
  if (!verified) return { ok: false, reason: 'no valid signature by the verifier key' };
  const body = parseCheckpointBody(text);
  return body ? { ok: true, body } : { ok: false, reason: 'checkpoint body is malformed' };
}

export function parseCheckpointBody(text: string): CheckpointBody | null {
  const lines = text.split('\n');
  if (lines.length < 4) return null;
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (origin.length === 0) return null;
  if (!/^(0|[1-9][0-9]*)$/u.test(sizeText)) return null;
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) return null; // a size a Number cannot hold exactly is not the signed one
  const rootHash = Buffer.from(rootText, 'base64');
  if (rootHash.length !== 32 || rootHash.toString('base64') !== rootText) return null;
  return { origin, size, rootHash };
}
