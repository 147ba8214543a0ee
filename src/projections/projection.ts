/**
 * The projection framework's core contract (plain TypeScript, no Nest): a projection is a pure, deterministic
 * fold over integrated entries from position 0, with a canonical digest of what it holds. The live host and
 * the offline rebuild drive the very same classes, so "rebuilt from position 0 equals live" (DESIGN §9) holds
 * by construction and is checked by comparing digests.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { LedgerError } from '../common/ledger-error.js';
import type { IntegratedEntry } from '../ledger/entry.js';

/**
 * What a projection reads of an integrated entry. An `IntegratedEntry` is one; the lean rebuild reader hands
 * over only these two members (projections never need the leaf hash).
 */
export type ProjectionEntry = Pick<IntegratedEntry, 'position' | 'entry'>;

/**
 * A read model folded from the log.
 *
 * Contract:
 * - `apply` MUST be called with every entry from position 0 on, in position order, exactly once each
 *   (`entry.position === position`); it throws `PROJECTION.OUT_OF_ORDER` otherwise and applies nothing.
 * - `apply` MUST ignore entry types it does not know, and MUST throw an internal `LedgerError`
 *   (`PROJECTION.EVENT_INVALID`) naming the entry's position for a known type it cannot apply (malformed data,
 *   unsupported schema, an event that contradicts what came before). After a throw the projection is broken:
 *   every later call throws the same error (a projection that skipped an entry would silently diverge).
 * - `apply` MUST be cheap (it runs for every entry of a million-entry rebuild): mutable internal state, no
 *   canonicalisation, no copies of the whole state.
 * - The result MUST NOT depend on how the entries were batched, nor on when `digest` or a read was called.
 * - `digest()` is `sha256:` + hex SHA-256 of the RFC 8785 JSON of the projection's content, sorted by a key
 *   of the content (never by arrival order of unrelated entries); computed on demand.
 */
export interface Projection {
  readonly name: string;
  /** The next position to apply (= number of entries applied so far). */
  readonly position: number;
  /** Entries of a type this projection folds (the rest were only counted past). */
  readonly applied: number;
  apply(entry: ProjectionEntry): void;
  /**
   * Optional: folds whatever `apply` buffered, so the state is complete (reads and `digest` do it themselves;
   * a rebuild calls it at the end of its fold, so that its fold time counts all the folding).
   */
  settle?(): void;
  digest(): string;
  /**
   * Optional: the same digest, computed in slices of about `sliceMs` that give the event loop back in between
   * (a million-entry projection takes seconds: a status request must not stall every other request meanwhile).
   * The caller MUST NOT apply entries until it resolves (the live host pauses); if one is applied anyway it
   * rejects with `PROJECTION.DIGEST_INTERRUPTED` and breaks nothing.
   */
  digestInSlices?(sliceMs?: number): Promise<string>;
}

/** How long a sliced digest computes before it gives the event loop back. */
export const DIGEST_SLICE_MS = 10;

/** Position, name and digest of one projection, as `GET /v1/projections` and `ida-ledger rebuild` show it. */
export interface ProjectionStatus {
  name: string;
  position: number;
  applied: number;
  digest: string;
}

export function statusOf(projection: Projection): ProjectionStatus {
  return { name: projection.name, position: projection.position, applied: projection.applied, digest: projection.digest() };
}

/** The error for a known entry a projection cannot apply. */
export function invalidEntry(projection: string, entry: ProjectionEntry, reason: string, details: Record<string, unknown> = {}): LedgerError {
  const type = typeof entry.entry?.type === 'string' ? entry.entry.type : String(entry.entry?.type);
  return invalidEntryAt(projection, entry.position, type, reason, details);
}

export function invalidEntryAt(
  projection: string,
  position: number,
  type: string,
  reason: string,
  details: Record<string, unknown> = {},
): LedgerError {
  return new LedgerError('PROJECTION.EVENT_INVALID', 'internal', `${projection}: cannot apply ${type} at position ${position}: ${reason}`, {
    projection,
    position,
    eventType: type,
    reason,
    ...details,
  });
}

/**
 * The shared mechanics of every projection here: order check, the `applied` count, and the "broken after a
 * failure" rule. Subclasses implement `fold` (return true when the entry was of a type they fold) and
 * `content digest`.
 */
export abstract class FoldProjection implements Projection {
  abstract readonly name: string;
  private next = 0;
  private folded = 0;
  private failure: unknown = null;
  private cachedDigest: { position: number; digest: string } | null = null;

  get position(): number {
    return this.next;
  }

  get applied(): number {
    return this.folded;
  }

  apply(integrated: ProjectionEntry): void {
    if (this.failure !== null) throw this.failure;
    if (integrated.position !== this.next) {
      // Not recorded as a failure: nothing was applied, the caller fed the wrong entry.
      throw new LedgerError(
        'PROJECTION.OUT_OF_ORDER',
        'internal',
        `${this.name}: expected the entry at position ${this.next}, got ${String(integrated.position)}`,
        { projection: this.name, expected: this.next, got: integrated.position },
      );
    }
    try {
      if (this.fold(integrated)) this.folded++;
    } catch (error) {
      this.failure = error instanceof LedgerError ? error : invalidEntry(this.name, integrated, messageOf(error));
      throw this.failure;
    }
    this.next++;
  }

  digest(): string {
    if (this.failure !== null) throw this.failure;
    if (this.cachedDigest?.position === this.next) return this.cachedDigest.digest;
    let digest: string;
    try {
      const steps = this.digestSteps();
      let step = steps.next();
      while (step.done !== true) step = steps.next();
      digest = step.value;
    } catch (error) {
      this.failure = error;
      throw error;
    }
    this.cachedDigest = { position: this.next, digest };
    return digest;
  }

  async digestInSlices(sliceMs = DIGEST_SLICE_MS): Promise<string> {
    if (this.failure !== null) throw this.failure;
    if (this.cachedDigest?.position === this.next) return this.cachedDigest.digest;
    const position = this.next;
    const steps = this.digestSteps();
    let sliceStart = performance.now();
    let digest: string;
    for (;;) {
      let step: IteratorResult<void, string>;
      try {
        step = steps.next();
      } catch (error) {
        this.failure = error;
        throw error;
      }
      if (step.done === true) {
        digest = step.value;
        break;
      }
      if (performance.now() - sliceStart < sliceMs) continue;
      await nextTurn();
      if (this.failure !== null) throw this.failure;
      if (this.next !== position) {
        steps.return('');
        throw new LedgerError('PROJECTION.DIGEST_INTERRUPTED', 'internal', `${this.name}: an entry was applied while its digest was computed`, {
          projection: this.name,
          position,
        });
      }
      sliceStart = performance.now();
    }
    this.cachedDigest = { position, digest };
    return digest;
  }

  /** Throws the failure that broke this projection, if any (read paths call it before answering). */
  protected assertHealthy(): void {
    if (this.failure !== null) throw this.failure;
  }

  /** Records a failure found outside `apply` (a lazy fold), so the projection stays broken. */
  protected fail(error: unknown): never {
    this.failure = error;
    throw error;
  }

  /** Applies one entry; returns whether its type is one this projection folds. */
  protected abstract fold(integrated: ProjectionEntry): boolean;

  /**
   * The content digest, as a generator that yields between pieces of work (an item, a few hundred items):
   * `digest` runs it to the end at once, `digestInSlices` gives the event loop back when a slice is used up.
   */
  protected abstract digestSteps(): Generator<void, string, void>;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Exhaustiveness check for a `switch` over a union; throws if an unexpected value slips through at run time. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
