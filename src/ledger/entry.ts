/**
 * The entry format of DESIGN §5: what a writer signs, what the log integrates.
 * Plain TypeScript: shared by the service, the CLI and the offline verifier.
 */

/** Any JSON value that survives RFC 8785 canonicalisation. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type Role = 'pipeline' | 'overseer' | 'worker' | 'auditor' | 'compliance' | 'admin' | 'system';

export interface Actor {
  sub: string;
  role: Role;
}

export interface EntryMeta {
  /** Tenant the entry belongs to; `system` for ledger-wide entries (keys). */
  tenant: string;
  actor: Actor;
  correlationId: string;
  causationId: string | null;
  /** Client command id (HTTP Idempotency-Key) or a generated one; shared by all entries of one command. */
  commandId: string;
  /** RFC 3339 UTC timestamp with milliseconds. */
  recordedAt: string;
}

/** The entry without its signature: these fields, canonicalised with RFC 8785, are the signed bytes. */
export interface UnsignedEntry {
  stream: string;
  /** Per-stream revision, 0-based. */
  revision: number;
  /** UUID v7. */
  id: string;
  type: string;
  schema: number;
  data: JsonObject;
  meta: EntryMeta;
  /** Hex leaf hash of revision-1 of the same stream, or null for revision 0. */
  prev: string | null;
  /** RFC 7638 JWK thumbprint of the signing key. */
  kid: string;
}

export interface SignedEntry extends UnsignedEntry {
  /** Compact JWS, EdDSA, RFC 7797 detached unencoded payload: `<b64 header>..<b64 signature>`. */
  sig: string;
}

/** An entry after integration: its global, gapless, 0-based position is its Merkle leaf index. */
export interface IntegratedEntry {
  position: number;
  entry: SignedEntry;
  /** Hex SHA-256(0x00 || JCS(entry)). */
  leafHash: string;
}

/** What a command handler asks to append: the store fills stream, revision, id, prev, kid, sig. */
export interface ProposedEvent {
  type: string;
  schema: number;
  data: JsonObject;
}
