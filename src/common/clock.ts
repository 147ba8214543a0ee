/**
 * Time as a port, so pure `decide()` code and tests never read the wall clock directly (DESIGN §4:
 * "time and ids passed in"). Plain TypeScript: usable by the ledger and the offline verifier.
 */

/** Injection token for the {@link Clock} (Nest: `@Inject(CLOCK) clock: Clock`). */
export const CLOCK = Symbol('CLOCK');

/**
 * Contract:
 * - `now()` MUST return a fresh `Date` each call (callers may keep or mutate it without affecting the clock).
 * - The value MUST be a valid date (never `Invalid Date`).
 * - No monotonicity is promised: a system clock may step backwards (NTP). Code that needs order uses log
 *   positions / revisions, never timestamps.
 */
export interface Clock {
  now(): Date;
}

/** The real wall clock. */
export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }
}

/** A clock that only moves when told to: deterministic tests of expiry, periods, `recordedAt`. */
export class FixedClock implements Clock {
  private epochMs: number;

  constructor(start: Date | string | number = '2025-01-01T00:00:00.000Z') {
    this.epochMs = FixedClock.toEpochMs(start);
  }

  now(): Date {
    return new Date(this.epochMs);
  }

  /** Moves the clock by `ms` (negative values allowed, to test clock steps). */
  advance(ms: number): this {
    if (!Number.isFinite(ms)) throw new RangeError('FixedClock.advance needs a finite number of milliseconds');
    this.epochMs += ms;
    return this;
  }

  set(to: Date | string | number): this {
    this.epochMs = FixedClock.toEpochMs(to);
    return this;
  }

  private static toEpochMs(value: Date | string | number): number {
    const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
    if (!Number.isFinite(ms)) throw new RangeError(`FixedClock: invalid date ${JSON.stringify(String(value))}`);
    return ms;
  }
}
