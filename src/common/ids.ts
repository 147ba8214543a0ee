/**
 * Identifier generation as a port, so `decide()` stays pure and tests get stable ids (DESIGN §4).
 * Plain TypeScript, no Nest.
 */
import { v7 as uuidv7 } from 'uuid';

/** Injection token for the {@link IdGenerator} (Nest: `@Inject(ID_GENERATOR) ids: IdGenerator`). */
export const ID_GENERATOR = Symbol('ID_GENERATOR');

/**
 * Contract:
 * - `newId()` MUST return a lowercase RFC 9562 UUID string (8-4-4-4-12 hex), version 7, RFC variant.
 * - Ids MUST be unique for the lifetime of the log, and ids from one generator MUST sort (as strings) in the
 *   order they were created, so entry ids roughly follow time and index well.
 */
export interface IdGenerator {
  newId(): string;
}

/** UUID v7 (time-ordered; the `uuid` package keeps ids monotonic within one process, even within one ms). */
export class UuidV7IdGenerator implements IdGenerator {
  newId(): string {
    return uuidv7();
  }
}

/**
 * Deterministic ids for tests: `00000000-0000-7000-8000-000000000001`, `...002`, ... They keep the UUID v7
 * shape (version and variant nibbles) so validators that accept real ids accept these too.
 */
export class SequentialIdGenerator implements IdGenerator {
  private next: bigint;

  constructor(start: number | bigint = 1) {
    this.next = BigInt(start);
    if (this.next < 0n) throw new RangeError('SequentialIdGenerator: start must be ≥ 0');
  }

  newId(): string {
    const n = this.next++;
    // 62 bits of counter fit in the last 16 hex digits next to the 2 variant bits; tests never get close.
    if (n >= 1n << 62n) throw new RangeError('SequentialIdGenerator exhausted');
    const hex = n.toString(16).padStart(16, '0');
    const variantNibble = (8 | (parseInt(hex[0]!, 16) & 0x3)).toString(16);
    return `00000000-0000-7000-${variantNibble}${hex.slice(1, 4)}-${hex.slice(4)}`;
  }
}
