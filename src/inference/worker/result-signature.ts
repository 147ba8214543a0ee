/**
 * The signed inference result a worker posts (docs/policy-gate.md, "Workers": `POST /v1/inference/results`),
 * and the digests both sides compute. Pure helpers, shared by the worker (signing) and the ledger (verifying
 * before it records `InferenceCompleted`). No Nest, no I/O; signatures are synchronous (`ledger/compact-jws`).
 *
 * `signature` is a compact JWS (`alg: EdDSA`, `kid` = the worker key's RFC 7638 thumbprint) whose payload is
 * the RFC 8785 canonical JSON of the body without `signature`. A verifier recomputes that JSON from the body
 * it received and requires the JWS payload to be exactly those bytes.
 */
import type { KeyObject } from 'node:crypto';
import { signCompactJws, verifyCompactJws } from '../../ledger/compact-jws.js';
import { ed25519PublicKey } from './ed25519-public-key.js';
import { sha256Digest } from '../onnx/digest.js';
import { canonicalJson } from '../../ledger/canonical-json.js';
import type { JsonValue } from '../../ledger/entry.js';
import { jwkThumbprint, type Ed25519PublicJwk } from '../../ledger/signing-key.js';

export type ExecutionProviderName = 'cuda' | 'cpu';

export interface InferenceOutput {
  answer: string;
  /** Top softmax probability, in [0, 1]. */
  confidence: number;
  /** The model's first output for the input row, as it produced it. */
  scores?: number[];
}

/** Body of `POST /v1/inference/results`. */
export interface InferenceResultBody {
  /** The grant JWT the ledger issued with the lease, as received. */
  grant: string;
  jobId: string;
  output: InferenceOutput;
  provider: ExecutionProviderName;
  timing: { loadMs: number; runMs: number };
  /** `sha256:<hex>` of the model bytes the worker ran (= the grant's `model`). */
  modelSha256: string;
  /** `sha256:<hex>` of RFC 8785 JSON of the job input it ran on (= the grant's `input`). */
  inputDigest: string;
  /** Compact JWS over {@link resultSigningInput}. */
  signature: string;
}

export type UnsignedResultBody = Omit<InferenceResultBody, 'signature'>;

/** The key a worker signs with: an Ed25519 private key and its kid (RFC 7638 thumbprint). */
export interface ResultSigningKey {
  privateKey: KeyObject;
  kid: string;
}

export { sha256Digest };

/** `sha256:` of the RFC 8785 JSON of a job input: the `inputDigest` of `InferenceRequested` and the grant's `input`. */
export function inputDigest(input: JsonValue): string {
  return sha256Digest(canonicalJson(input));
}

/** The signed bytes' text: RFC 8785 JSON of `body` without its `signature` member (present or not). */
export function resultSigningInput(body: UnsignedResultBody | InferenceResultBody): string {
  const { signature: _ignored, ...unsigned } = body as InferenceResultBody;
  return canonicalJson(unsigned as unknown as JsonValue);
}

/** `body` with its `signature`: a compact EdDSA JWS by `key` over {@link resultSigningInput}. */
export function signResult(body: UnsignedResultBody, key: ResultSigningKey): InferenceResultBody {
  return { ...body, signature: signCompactJws({ kid: key.kid }, resultSigningInput(body), key.privateKey) };
}

/**
 * Whether `body.signature` is a valid EdDSA compact JWS by the key `publicJwk` whose payload is exactly
 * {@link resultSigningInput}(body). A `kid` in the JWS header must be that key's thumbprint. Never throws:
 * anything malformed is `false`.
 */
export function verifyResultSignature(body: InferenceResultBody, publicJwk: Ed25519PublicJwk): boolean {
  try {
    if (typeof body?.signature !== 'string') return false;
    const checked = verifyCompactJws(body.signature, (header) =>
      header.kid === undefined || header.kid === jwkThumbprint(publicJwk) ? ed25519PublicKey(publicJwk.x) : undefined,
    );
    return checked.ok && checked.payload.equals(Buffer.from(resultSigningInput(body), 'utf8'));
  } catch {
    return false;
  }
}
