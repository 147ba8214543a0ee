import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isQueryEventType, modelInputDigest, parseRecordedQueryEvent, type QueryEvent } from '../../amplification/query.events.js';
import { ev, record } from '../../amplification/query.test-kit.js';
import type { JsonValue, SignedEntry } from '../../ledger/entry.js';
import { toEntries } from '../ida-event-script.js';
import { RealisticMix } from '../projection-bench.js';
import { leanRecordedQueryEvent } from './lean-query-event.js';

type Entry = Parameters<typeof leanRecordedQueryEvent>[0];

/** Query entries of every kind: a realistic mix (older schemas, upcast on read) and today's schemas. */
function corpus(): Entry[] {
  const mix = new RealisticMix(7, 5, 3);
  const appends = Array.from({ length: 120 }, () => mix.next()).flat();
  const fromMix = toEntries(appends).map((e) => e.entry as SignedEntry);
  const today: QueryEvent[] = [
    ev.opened(),
    ev.opened({ taskClass: 'triage', dataClassification: 'restricted' }),
    ev.delegated('n-root', { a: 'A?', b: 'B?' }),
    ev.assigned('a', { kind: 'proxy', proxyVersionId: 'p', jobId: 'j1' }),
    ev.assigned('b', { kind: 'ensemble', method: 'majority', members: [{ proxyVersionId: 'p', jobId: 'j2' }, { proxyVersionId: 'q', jobId: 'j3' }] }),
    ev.requested('a', 'j1', 'p', false, 'A?'),
    ev.requested('b', 'j2', 'p', true, 'B?', { question: 'B?', context: [1, 'two', { three: null }] }),
    ev.decided('a', 'j1'),
    ev.authorized('a', 'j1', 'p', 'A?'),
    ev.denied('b', 'j3', 'q'),
    ev.inferred('a', 'j1', 'p', 'yes', 0.9),
    ev.aggregated('b', [{ jobId: 'j2', proxyVersionId: 'p', answer: 'x', confidence: 0.8 }]),
    ev.escalated('b', { reason: 'low_confidence', confidence: 0.4, threshold: 0.7, jobId: 'j2', note: 'n' }),
    ev.answered('b', 'human', 0.5),
    ev.composed('n-root', 'both'),
    ev.overridden('a', 'no', 'checked', 'yes'),
    ev.completed('both'),
    ev.stopped('enough', 'completed'),
  ];
  const recorded = record(today).map((r) => JSON.parse(JSON.stringify(r)) as Entry);
  return [...fromMix.filter((e) => isQueryEventType(e.type)), ...recorded];
}

type Outcome = { value: unknown } | { error: string };
function attempt(run: () => unknown): Outcome {
  try {
    return { value: run() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Every path to a member inside `value` (objects and arrays), the root excluded. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((key) => [[...prefix, key], ...paths((value as Record<string | number, unknown>)[key], [...prefix, key])]);
}

function mutate(entry: Entry, path: (string | number)[], replacement: JsonValue | undefined): Entry {
  const copy = JSON.parse(JSON.stringify(entry)) as Record<string, unknown>;
  let target = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (replacement === undefined) delete target[last];
  else target[last] = replacement;
  return copy as Entry;
}

describe('leanRecordedQueryEvent', () => {
  const entries = corpus();

  it('parses well-formed entries exactly as parseRecordedQueryEvent does, today’s schemas and upcast older ones', () => {
    let lean = 0;
    for (const entry of entries) {
      const parsed = leanRecordedQueryEvent(entry);
      if (parsed === undefined) continue;
      lean++;
      expect(parsed).toEqual(parseRecordedQueryEvent(entry as SignedEntry));
    }
    // Every entry of the realistic mix takes the lean path (the gate's and schema-2 results go to the full parser).
    expect(lean).toBeGreaterThan(entries.length - 6);
  });

  it('never accepts what parseRecordedQueryEvent refuses, nor reads it differently (random damage, fast-check)', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: entries.length - 1 }),
        fc.nat(),
        fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined, freq: 5 }),
        fc.constantFrom('data', 'meta', 'schema', 'revision'),
        (index, at, replacement, where) => {
          const entry = entries[index]!;
          const candidates = where === 'data' ? paths(entry.data, ['data']) : where === 'meta' ? paths(entry.meta, ['meta']) : [[where]];
          const damaged = mutate(entry, candidates[at % candidates.length]!, replacement as JsonValue | undefined);
          const lean = attempt(() => leanRecordedQueryEvent(damaged));
          const full = attempt(() => parseRecordedQueryEvent(damaged as SignedEntry));
          expect('error' in lean).toBe(false); // the lean parser never throws: it answers undefined
          if ((lean as { value: unknown }).value === undefined) {
            refused++;
            return;
          }
          accepted++;
          expect(full).toEqual(lean);
        },
      ),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
  });

  it('upcasts schema-1 requests to one shared, frozen input per question, with its digest, past the cache bound too', () => {
    const request = entries.find((e) => e.type === 'InferenceRequested' && e.schema === 1)!;
    const withQuestion = (question: string): Entry => ({ ...request, data: { ...(request.data as object), question } });
    const input = (question: string) => (leanRecordedQueryEvent(withQuestion(question))!.data as { input: JsonValue; inputDigest: string });
    const first = input('Which clause applies?');
    const again = input('Which clause applies?');
    expect(again.input).toBe(first.input);
    expect(Object.isFrozen(first.input)).toBe(true);
    expect(first).toEqual({ ...first, input: { question: 'Which clause applies?' }, inputDigest: modelInputDigest({ question: 'Which clause applies?' }) });
    // More distinct questions than the cache keeps: each still gets its own input and digest.
    for (let i = 0; i < 4200; i++) {
      const question = `question ${i}?`;
      const upcast = input(question);
      expect(upcast.input).toEqual({ question });
      expect(upcast.inputDigest).toBe(modelInputDigest({ question }));
    }
  });

  it('leaves other types and schemas to the amplification parser', () => {
    const opened = entries.find((e) => e.type === 'AmplificationQueryOpened')!;
    expect(leanRecordedQueryEvent({ ...opened, schema: 99 })).toBeUndefined();
    expect(leanRecordedQueryEvent({ ...opened, type: 'SomethingElse' })).toBeUndefined();
    expect(leanRecordedQueryEvent({ ...opened, data: Object.create(null) as object })).toBeUndefined();
  });
});
