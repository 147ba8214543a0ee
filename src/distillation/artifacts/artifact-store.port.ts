/**
 * The artifact store: the bytes of trained proxies (ONNX files) and anything else a run produces, addressed by
 * their SHA-256. The log records only the digest (`DistillationRunCompleted.data.artifact.sha256`,
 * `ProxyRegistered.data.artifact.sha256`); the store keeps the bytes, and whoever fetches them (a GPU worker, an
 * auditor) checks them against the recorded digest.
 *
 * Artifacts are global content, not tenant data: the same bytes have the same address whatever tenant uploaded
 * them, and a digest reveals nothing about the content. Tenants are separated by what their log entries
 * reference, not by the store.
 *
 * Contract (every adapter passes `artifact-store.contract.ts`):
 * - Content-addressed: an artifact's address MUST be `sha256:<64 lowercase hex>` of exactly its bytes.
 * - `put` MUST be idempotent: putting bytes already stored resolves to the same `{sha256, sizeBytes}` (with
 *   `created: false`) and changes nothing.
 * - `put` MUST NOT overwrite: once stored, an address keeps its first bytes (identical by construction).
 * - `put` with an `expectedSha256` MUST reject with `ARTIFACT.DIGEST_MISMATCH` (and store nothing) when the
 *   bytes do not hash to it: a client that states the digest learns of a corrupted upload instead of having
 *   it stored under another address.
 * - `put` MUST NOT resolve before the bytes are durable, and a crash MUST NOT leave a partial artifact
 *   visible under its address (write aside, then publish atomically).
 * - `get` MUST return exactly the stored bytes, or null when the address is unknown; `stat` and `openRead`
 *   likewise (size only / a stream of the bytes).
 * - Every method MUST reject a malformed address with `ARTIFACT.INVALID_DIGEST` without touching storage (an
 *   address never becomes a path unchecked).
 * - Empty artifacts MUST be refused with `ARTIFACT.EMPTY`: no model is zero bytes; it is always a client mistake.
 * - `putStream` MUST store exactly what `put` of the concatenated chunks would (same address, same refusals,
 *   same idempotence) without holding the whole artifact in memory; with `maxBytes` it MUST refuse a source
 *   longer than that with `REQUEST.BODY_TOO_LARGE` as soon as it passes the bound, and a source that fails MUST
 *   make it reject with the source's error. Either way nothing is stored and nothing partial is left behind.
 */
import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { LedgerError } from '../../common/ledger-error.js';
import { SHA256_DIGEST } from '../../common/domain-values.js';

/** Injection token of the {@link ArtifactStore}. */
export const ARTIFACT_STORE = 'ida-ledger:ArtifactStore';

/** Injection token of the largest accepted upload, in bytes (`ARTIFACT_MAX_BYTES`, default 256 MiB). */
export const ARTIFACT_MAX_BYTES = 'ida-ledger:ArtifactMaxBytes';

/** What the store knows of one artifact. */
export type ArtifactInfo = { sha256: string; sizeBytes: number };

export interface PutResult extends ArtifactInfo {
  /** False when the artifact was already stored (nothing was written). */
  created: boolean;
}

export interface OpenedArtifact extends ArtifactInfo {
  /** The bytes; the caller must consume or destroy it. */
  stream: Readable;
}

export interface PutStreamOptions {
  expectedSha256?: string;
  /** Bytes accepted at most; more is refused (`REQUEST.BODY_TOO_LARGE`) without reading on. */
  maxBytes?: number;
}

export interface ArtifactStore {
  put(bytes: Uint8Array, options?: { expectedSha256?: string }): Promise<PutResult>;
  /** `put` of the chunks of `source`, read as they come (an upload): hashed and set aside chunk by chunk. */
  putStream(source: AsyncIterable<Uint8Array>, options?: PutStreamOptions): Promise<PutResult>;
  get(sha256: string): Promise<Uint8Array | null>;
  stat(sha256: string): Promise<ArtifactInfo | null>;
  openRead(sha256: string): Promise<OpenedArtifact | null>;
}

/** `sha256:<hex>` of some bytes. */
export function artifactDigest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The hex part of a well-formed address; throws `ARTIFACT.INVALID_DIGEST` (400) otherwise. */
export function digestHex(sha256: string): string {
  if (typeof sha256 !== 'string' || !SHA256_DIGEST.test(sha256)) {
    throw new LedgerError('ARTIFACT.INVALID_DIGEST', 'bad_request', 'An artifact address is "sha256:" followed by 64 lowercase hex characters.');
  }
  return sha256.slice('sha256:'.length);
}

export function digestMismatch(expected: string, actual: string): LedgerError {
  return new LedgerError('ARTIFACT.DIGEST_MISMATCH', 'unprocessable', 'The bytes do not hash to the stated digest; nothing was stored.', {
    expectedSha256: expected,
    actualSha256: actual,
  });
}

export function emptyArtifact(): LedgerError {
  return new LedgerError('ARTIFACT.EMPTY', 'bad_request', 'An artifact must not be empty.');
}

/** Checks a `put`'s input: non-empty, and the stated digest (if any) well-formed and matching. Returns the digest. */
export function checkPut(bytes: Uint8Array, options: { expectedSha256?: string } = {}): string {
  if (options.expectedSha256 !== undefined) digestHex(options.expectedSha256);
  if (!(bytes instanceof Uint8Array)) throw emptyArtifact();
  const digester = new ArtifactDigester(options);
  digester.add(bytes);
  return digester.finish();
}

export function artifactTooLarge(maxBytes: number): LedgerError {
  return new LedgerError('REQUEST.BODY_TOO_LARGE', 'payload_too_large', `An artifact may have at most ${maxBytes} bytes.`, { maxBytes });
}

/** Checks `putStream`'s options before anything is read: a well-formed stated digest, a sane bound. */
export function checkPutStreamOptions(options: PutStreamOptions): void {
  if (options.expectedSha256 !== undefined) digestHex(options.expectedSha256);
  if (options.maxBytes !== undefined && (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1))
    throw new TypeError('putStream: maxBytes must be a positive integer');
}

/**
 * Counts the bytes of a source as they pass and hashes them; `add` throws `REQUEST.BODY_TOO_LARGE` once they
 * exceed `maxBytes`. `finish` refuses an empty or mismatching artifact and gives its digest (`put` and `putStream` alike).
 */
export class ArtifactDigester {
  private readonly hash = createHash('sha256');
  size = 0;

  constructor(private readonly options: PutStreamOptions) {}

  add(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.options.maxBytes !== undefined && this.size > this.options.maxBytes) throw artifactTooLarge(this.options.maxBytes);
    this.hash.update(chunk);
  }

  finish(): string {
    if (this.size === 0) throw emptyArtifact();
    const sha256 = `sha256:${this.hash.digest('hex')}`;
    const expected = this.options.expectedSha256;
    if (expected !== undefined && expected !== sha256) throw digestMismatch(expected, sha256);
    return sha256;
  }
}
