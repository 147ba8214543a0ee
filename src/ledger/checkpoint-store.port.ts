/** A signed checkpoint as kept by the log. */
export interface StoredCheckpoint {
  size: number;
  /** Base64 root hash (as in the note body). */
  rootHash: string;
  /** The whole C2SP signed note. */
  note: string;
  /** RFC 3339. */
  issuedAt: string;
  /** kid (RFC 7638) of the log key that signed the note. */
  kid: string;
}

/**
 * Keeps every checkpoint the log issued (DESIGN §5: "issued every N entries or T seconds and kept").
 *
 * Contract:
 * - `save` MUST be durable when it resolves and MUST NOT overwrite a checkpoint of the same size with another root.
 * - `latest` returns the checkpoint of the greatest size; `list` all of them in increasing size.
 */
export interface CheckpointStore {
  save(checkpoint: StoredCheckpoint): Promise<void>;
  latest(): Promise<StoredCheckpoint | null>;
  list(): Promise<StoredCheckpoint[]>;
}
