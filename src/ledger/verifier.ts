import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { SignedEntry } from './entry.js';
import { protectedHeaderFor } from './entry-signature.js';
import { leafHash } from './hashing.js';
import { applyKeyEntry, isKeyEntryType, type KeyRecord } from './key-lifecycle.js';
import type { Jwks } from './key-ring.js';
import { MerkleTree } from './merkle.js';
import { SignaturePool, type PublicKeyEntry } from './signature-pool.js';
import { noteKeyId, parseCheckpointBody } from './checkpoint.js';
import { publicKeyFromJwk } from './signing-key.js';

/**
 * The offline verifier (DESIGN §5). Input: the integrated entries in position order, the checkpoints the log
 * published, the checkpoints the auditor holds, and the JWKS. It checks every signature, every stream chain,
 * key validity (unknown keys, use after revocation), gapless positions, and the Merkle root against every
 * checkpoint, and names the first bad position with the reason.
 *
 * Why signatures are checked asynchronously: node:crypto's callback form runs on libuv's pool, so Ed25519
 * verification uses every core while this thread canonicalises, hashes and walks the chains in order.
 */

/** One record as read from an export line or a store row. */
export interface RawRecord {
  /** The position the source claims for the entry. */
  position: unknown;
  entry: unknown;
  /**
   * The entry's bytes as stored, when the source has them (export line, store row): spares re-canonicalising.
   * They must be exactly JCS(entry): a changed byte that parses to the same value (a space, `\u0041` for `A`,
   * `1E3` for `1e3`) is still a changed byte.
   */
  entryJson?: string;
  /** The leaf hash stored next to the entry (the store's `leaf_hash`, which its proofs are built from). */
  leafHash?: Uint8Array;
  /** Why the source could not read this record (a line that is not JSON, or not in the export's form). */
  problem?: string;
}

/**
 * The signed bytes and the leaf bytes straight from stored text, without re-canonicalising (the verifier's
 * hot path). Sound because the signature decides: the payload is the stored text minus its top-level `sig`
 * member, so if that text was not exactly JCS(entry) as signed — a changed byte, added whitespace, reordered
 * keys — the signature fails. The top-level `sig` member sits right before `,"stream":` (keys are sorted and
 * only `type` follows `stream`); an unescaped `,"stream":` cannot occur inside a JSON string, so the last one
 * is the top-level one. Returns null when the text is not laid out that way (the caller then canonicalises).
 */
export function splitStoredEntry(entryJson: string, sig: string): { payload: string; leaf: string } | null {
  const streamAt = entryJson.lastIndexOf(',"stream":');
  if (streamAt < 0) return null;
  const member = `,"sig":"${sig}"`;
  const sigAt = streamAt - member.length;
  if (sigAt < 0 || entryJson.slice(sigAt, streamAt) !== member) return null;
  return { payload: entryJson.slice(0, sigAt) + entryJson.slice(streamAt), leaf: entryJson };
}

export interface VerifyInput {
  records: Iterable<RawRecord> | AsyncIterable<RawRecord>;
  jwks: Jwks;
  /** Checkpoint notes published by the log (from the export or the store). */
  checkpoints?: string[];
  /** Checkpoint notes the auditor kept independently: a log shorter than any of them is truncated. */
  heldCheckpoints?: string[];
  /** Signatures per batch sent to a verification worker (default 256). */
  batchSize?: number;
  onProgress?: (verifiedEntries: number) => void;
}

export interface VerifyFailure {
  /** First bad position (for a truncated log: the first missing position). */
  position: number;
  reason: string;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  checkpointsVerified: number;
  /** Base64 Merkle root over all entries. */
  rootHash: string;
  failure?: VerifyFailure;
}

interface KeyInfo {
  publicKey: KeyObject;
  revokedAt?: string;
}

interface ParsedCheckpoint {
  source: 'published' | 'held';
  size: number;
  rootHash: Buffer;
}

class StopVerification extends Error {
  constructor(readonly failure: VerifyFailure) {
    super(failure.reason);
  }
}

const ENTRY_FIELDS = ['data', 'id', 'kid', 'meta', 'prev', 'revision', 'schema', 'sig', 'stream', 'type'];
const META_FIELDS = ['actor', 'causationId', 'commandId', 'correlationId', 'recordedAt', 'tenant'];

function withoutSig(entry: SignedEntry): Omit<SignedEntry, 'sig'> {
  const { sig: _sig, ...unsigned } = entry;
  return unsigned;
}

function hasExactly(record: Record<string, unknown>, fields: readonly string[]): boolean {
  let count = 0;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    count++;
    if (!fields.includes(key)) return false;
  }
  return count === fields.length;
}

function shapeProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'entry is not an object';
  const entry = value as Record<string, unknown>;
  const keys = hasExactly(entry, ENTRY_FIELDS) ? ENTRY_FIELDS : Object.keys(entry).sort();
  if (keys !== ENTRY_FIELDS) return `entry fields are [${keys.join(', ')}], expected [${ENTRY_FIELDS.join(', ')}]`;
  if (typeof entry.stream !== 'string' || entry.stream.length === 0) return 'stream is not a non-empty string';
  if (!Number.isSafeInteger(entry.revision) || (entry.revision as number) < 0) return 'revision is not a non-negative integer';
  if (typeof entry.id !== 'string') return 'id is not a string';
  if (typeof entry.type !== 'string') return 'type is not a string';
  if (!Number.isSafeInteger(entry.schema)) return 'schema is not an integer';
  if (typeof entry.data !== 'object' || entry.data === null || Array.isArray(entry.data)) return 'data is not an object';
  // Its value is checked against the previous entry's leaf hash in the chain step.
  if (entry.prev !== null && typeof entry.prev !== 'string') return 'prev is not a string or null';
  if (typeof entry.kid !== 'string') return 'kid is not a string';
  if (typeof entry.sig !== 'string') return 'sig is not a string';
  const meta = entry.meta as Record<string, unknown> | null;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return 'meta is not an object';
  const metaKeys = hasExactly(meta, META_FIELDS) ? META_FIELDS : Object.keys(meta).sort();
  if (metaKeys !== META_FIELDS) return `meta fields are [${metaKeys.join(', ')}]`;
  if (typeof meta.tenant !== 'string' || typeof meta.recordedAt !== 'string') return 'meta.tenant / meta.recordedAt are not strings';
  return null;
}

function parseCheckpointNote(note: string, jwks: Map<string, KeyInfo & { raw: Buffer }>, source: ParsedCheckpoint['source']): ParsedCheckpoint | string {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return 'checkpoint note has no signature';
  const text = note.slice(0, split + 1);
  const body = parseCheckpointBody(text);
  if (!body) return 'checkpoint body is malformed';
  for (const line of note.slice(split + 2).split('\n')) {
    if (!line.startsWith('\u2014 ')) continue;
    const [name, b64] = line.slice(2).split(' ');
    if (name !== body.origin || !b64) continue;
    const raw = Buffer.from(b64, 'base64');
    if (raw.length !== 68) continue;
    for (const key of jwks.values()) {
      if (!noteKeyId(body.origin, key.raw).equals(raw.subarray(0, 4))) continue;
      if (cryptoVerify(null, Buffer.from(text, 'utf8'), key.publicKey, raw.subarray(4))) {
        return { source, size: body.size, rootHash: body.rootHash };
      }
    }
  }
  return `checkpoint of size ${body.size} has no valid signature by a key of the JWKS`;
}

export async function verifyLedger(input: VerifyInput): Promise<VerifyReport> {
  const keys = new Map<string, KeyInfo & { raw: Buffer }>();
  // The signature workers address keys by index.
  const keyIndexes = new Map<string, number>();
  const poolKeys: PublicKeyEntry[] = [];
  for (const jwk of input.jwks.keys) {
    const info: KeyInfo & { raw: Buffer } = { publicKey: publicKeyFromJwk(jwk), raw: Buffer.from(jwk.x, 'base64url') };
    if (jwk.revokedAt !== undefined) info.revokedAt = jwk.revokedAt;
    keys.set(jwk.kid, info);
    keyIndexes.set(jwk.kid, poolKeys.length);
    poolKeys.push({ x: jwk.x, publicKey: info.publicKey });
  }

  const tree = new MerkleTree();
  let checkpointsVerified = 0;
  const signatureFailure = (): VerifyFailure | null =>
    signatures.firstFailure === null ? null : { position: signatures.firstFailure, reason: 'signature does not verify (entry bytes changed or forged)' };
  const report = (failure?: VerifyFailure): VerifyReport => {
    const result: VerifyReport = {
      ok: !failure,
      entries: tree.size,
      checkpointsVerified,
      rootHash: tree.root().toString('base64'),
    };
    if (failure) result.failure = failure;
    return result;
  };
  // A failure found in order may still be preceded by a signature failure that is in flight.
  const fail = async (failure: VerifyFailure): Promise<never> => {
    await signatures.settled();
    const earlier = signatureFailure();
    throw new StopVerification(earlier && earlier.position < failure.position ? earlier : failure);
  };
  // A checkpoint mismatch only says that some entry of [from, size) is not the one the log committed to; a
  // signature failure inside that range names the entry itself, so it wins although its position is larger.
  const failRange = async (failure: VerifyFailure): Promise<never> => {
    await signatures.settled();
    throw new StopVerification(signatureFailure() ?? failure);
  };

  // 1. Checkpoints: every published and held note must carry a valid signature by a JWKS key.
  const checkpointsBySize = new Map<number, ParsedCheckpoint[]>();
  const allCheckpoints: ParsedCheckpoint[] = [];
  for (const [source, notes] of [
    ['published', input.checkpoints ?? []],
    ['held', input.heldCheckpoints ?? []],
  ] as const) {
    for (const note of notes) {
      const parsed = parseCheckpointNote(note, keys, source);
      if (typeof parsed === 'string') return report({ position: 0, reason: `${source} ${parsed}` });
      allCheckpoints.push(parsed);
      const list = checkpointsBySize.get(parsed.size) ?? [];
      list.push(parsed);
      checkpointsBySize.set(parsed.size, list);
    }
  }
  let lastMatchedCheckpointSize = 0;

  const heads = new Map<string, { revision: number; leafHashHex: string }>();
  const keyRecords = new Map<string, KeyRecord>();
  let expected = 0;

  // Created only now: every path from here on reaches the `finally` that stops its workers.
  const signatures = new SignaturePool(poolKeys, input.batchSize);
  try {
    for await (const record of input.records) {
      const position = expected;
      if (record.problem !== undefined) await fail({ position, reason: record.problem });
      // 2. Gapless positions: a deleted, inserted or moved entry shows here first.
      if (record.position !== position)
        await fail({ position, reason: `expected position ${position}, found ${JSON.stringify(record.position)}` });
      const problem = shapeProblem(record.entry);
      if (problem) await fail({ position, reason: problem });
      const entry = record.entry as SignedEntry;

      // 3. Key: known to the auditor's JWKS, activated in the log before use, not used after revocation.
      const key = keys.get(entry.kid);
      if (!key) await fail({ position, reason: `signed by unknown key ${entry.kid}` });
      const logKey = keyRecords.get(entry.kid);
      const selfActivation = entry.type === 'SigningKeyActivated' && (entry.data as { kid?: unknown }).kid === entry.kid;
      if (!logKey && !selfActivation) await fail({ position, reason: `signed by key ${entry.kid} before its SigningKeyActivated entry` });
      if (logKey?.revokedAtPosition !== undefined)
        await fail({ position, reason: `signed by key ${entry.kid} after its revocation at position ${logKey.revokedAtPosition}` });
      // Strictly after: the last entries a key signs, its successor's activation and its revocation may all
      // be recorded in the same millisecond (the log's own revocation entry is checked by position above).
      if (key!.revokedAt !== undefined && entry.meta.recordedAt > key!.revokedAt)
        await fail({ position, reason: `signed by key ${entry.kid} at ${entry.meta.recordedAt}, after its revocation at ${key!.revokedAt}` });

      // 4. Signature over JCS(entry without sig), checked on the pool.
      const sig = entry.sig;
      const parts = sig.split('.');
      const header = protectedHeaderFor(entry.kid);
      const signature = Buffer.from(parts[2] ?? '', 'base64url');
      if (parts.length !== 3 || parts[0] !== header || parts[1] !== '' || signature.length !== 64 || signature.toString('base64url') !== parts[2])
        await fail({ position, reason: 'signature is not a detached EdDSA JWS of this ledger' });
      const stored = record.entryJson === undefined ? null : splitStoredEntry(record.entryJson, sig);
      // JCS always puts `"sig"` right before `"stream"`: stored bytes laid out otherwise were changed.
      if (record.entryJson !== undefined && !stored)
        await fail({ position, reason: 'entry bytes are not the RFC 8785 form of the entry (bytes changed)' });
      let payload = '';
      let leafBytes = '';
      try {
        payload = stored ? stored.payload : canonicalJson(withoutSig(entry));
        leafBytes = stored ? stored.leaf : canonicalJson(entry);
      } catch (error) {
        await fail({ position, reason: `entry is not representable as RFC 8785 JSON (${error instanceof Error ? error.message : String(error)})` });
      }
      signatures.add(header, payload, signature, keyIndexes.get(entry.kid)!, position);
      const room = signatures.room();
      if (room) {
        await room;
        const failed = signatureFailure();
        if (failed) await fail(failed);
      }

      // 5. Stream chain: consecutive revisions, each `prev` the leaf hash of the previous one.
      const hash = leafHash(leafBytes);
      const hashHex = hash.toString('hex');
      if (record.leafHash !== undefined && !hash.equals(record.leafHash))
        await fail({ position, reason: 'stored leaf hash does not match the entry (entry bytes or leaf hash changed)' });
      const head = heads.get(entry.stream);
      const expectedRevision = head ? head.revision + 1 : 0;
      if (entry.revision !== expectedRevision)
        await fail({ position, reason: `stream ${entry.stream}: revision ${entry.revision}, expected ${expectedRevision}` });
      if (entry.prev !== (head ? head.leafHashHex : null))
        await fail({ position, reason: `stream ${entry.stream} revision ${entry.revision}: prev does not match the previous entry's leaf hash` });
      heads.set(entry.stream, { revision: entry.revision, leafHashHex: hashHex });

      if (isKeyEntryType(entry.type)) {
        const keyProblem = applyKeyEntry(keyRecords, { position, entry, leafHash: hashHex });
        if (keyProblem) await fail({ position, reason: keyProblem });
      }

      // 6. Merkle tree, compared with every checkpoint of this size.
      tree.append(hash);
      expected++;
      const atSize = checkpointsBySize.get(tree.size);
      if (atSize) {
        const root = tree.root();
        for (const checkpoint of atSize) {
          if (!checkpoint.rootHash.equals(root))
            await failRange({
              position: lastMatchedCheckpointSize,
              reason: `${checkpoint.source} checkpoint of size ${checkpoint.size} does not match the entries from position ${lastMatchedCheckpointSize} on (changed, reordered or replaced entries)`,
            });
          checkpointsVerified++;
        }
        lastMatchedCheckpointSize = tree.size;
      }
      if (input.onProgress && expected % 10_000 === 0) input.onProgress(expected);
    }
    await signatures.settled();
    const failed = signatureFailure();
    if (failed) await fail(failed);
    // 7. A checkpoint larger than the log means entries were cut off its tail.
    const beyond = allCheckpoints.filter((checkpoint) => checkpoint.size > tree.size).sort((a, b) => b.size - a.size)[0];
    if (beyond)
      await fail({
        position: tree.size,
        reason: `log truncated: it holds ${tree.size} entries but a ${beyond.source} checkpoint commits to ${beyond.size}`,
      });
  } catch (error) {
    if (error instanceof StopVerification) return report(error.failure);
    throw error;
  } finally {
    await signatures.settled().catch(() => undefined);
    await signatures.close();
  }
  input.onProgress?.(expected);
  return report();
}
