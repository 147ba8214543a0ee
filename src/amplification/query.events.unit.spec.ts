import { describe, expect, it } from '@jest/globals';
import type { JsonObject } from '../ledger/entry.js';
import {
  isJsonValue,
  isQueryEvent,
  isQueryEventType,
  parseQueryEvent,
  parseRecordedQueryEvent,
  QUERY_EVENT_TYPES,
  toProposed,
  type QueryEvent,
} from './query.events.js';
import { ev, overseer, refusal, ROOT } from './query.test-kit.js';

const all: QueryEvent[] = [
  ev.opened(),
  ev.delegated(ROOT, { 'n-1': 'A?', 'n-2': 'B?' }),
  ev.answered('n-1', 'yes', 0.9),
  ev.answered('n-2', 'no'),
  ev.composed(ROOT, 'safe'),
  ev.overridden(ROOT, 'unsafe', 'why', 'safe'),
  ev.completed('unsafe'),
  ev.stopped('done', 'completed'),
];

describe('query events', () => {
  it('covers every event type in the union', () => {
    expect(new Set(all.map((e) => e.type))).toEqual(new Set(QUERY_EVENT_TYPES));
  });

  it.each(all.map((e) => [e.type, e] as const))('%s: parse(toProposed(e)) equals e, with schema 1', (_, event) => {
    const proposed = toProposed(event);
    expect(proposed.schema).toBe(1);
    expect(parseQueryEvent(JSON.parse(JSON.stringify(proposed)))).toEqual(event);
    expect(isQueryEvent(proposed)).toBe(true);
  });

  it('parse keeps only known fields', () => {
    const proposed = toProposed(ev.completed('x'));
    expect(parseQueryEvent({ ...proposed, data: { ...proposed.data, extra: 1 } })).toEqual(ev.completed('x'));
  });

  it.each<[string, { type: string; schema: number; data: JsonObject }]>([
    ['an unknown type', { type: 'InferenceAuthorized', schema: 1, data: {} }],
    ['an unsupported schema', { ...toProposed(ev.completed('x')), schema: 2 }],
    ['a missing field', { type: 'QueryCompleted', schema: 1, data: {} }],
    ['a wrongly typed field', { type: 'HumanAnswerRecorded', schema: 1, data: { nodeId: 'n', answer: 'a', confidence: '0.5' } }],
    ['a malformed child', { type: 'SubqueriesDelegated', schema: 1, data: { nodeId: 'n', children: [{ nodeId: 'c' }] } }],
    ['a bad previous status', { type: 'QueryStopped', schema: 1, data: { reason: 'r', previousStatus: 'stopped' } }],
    ['a missing input', { type: 'AmplificationQueryOpened', schema: 1, data: { ...ev.opened().data, input: undefined as never } }],
  ])('parse refuses %s with QUERY.EVENT_INVALID (internal)', (_, entry) => {
    expect(refusal(() => parseQueryEvent(entry))).toMatchObject({ code: 'QUERY.EVENT_INVALID', category: 'internal' });
    expect(isQueryEvent(entry)).toBe(false);
  });

  it('isQueryEventType tells this aggregate’s types from others on the stream', () => {
    expect(isQueryEventType('HumanOverrideRecorded')).toBe(true);
    expect(isQueryEventType('EscalatedToHuman')).toBe(false);
  });

  it('parseRecordedQueryEvent copies meta so the state never aliases the stored entry', () => {
    const actor = { ...overseer, extra: 'x' } as typeof overseer;
    const entry = { ...toProposed(ev.completed('a')), meta: { tenant: 't', actor, recordedAt: 'now', commandId: 'c' }, revision: 4 };
    const recorded = parseRecordedQueryEvent(entry);
    expect(recorded).toEqual({ ...ev.completed('a'), meta: { tenant: 't', actor: overseer, recordedAt: 'now' }, revision: 4 });
    expect(recorded.meta.actor).not.toBe(actor);
  });

  it('parseRecordedQueryEvent refuses missing meta or a negative revision', () => {
    const base = { ...toProposed(ev.completed('a')), meta: { tenant: 't', actor: overseer, recordedAt: 'now' }, revision: 0 };
    expect(refusal(() => parseRecordedQueryEvent({ ...base, meta: { ...base.meta, tenant: undefined as never } }))).toMatchObject({
      code: 'QUERY.EVENT_INVALID',
    });
    expect(refusal(() => parseRecordedQueryEvent({ ...base, revision: -1 }))).toMatchObject({ code: 'QUERY.EVENT_INVALID' });
  });

  it('isJsonValue accepts plain JSON and rejects what canonical JSON cannot carry', () => {
    for (const ok of [null, true, 0, 'x', [], {}, { a: [1, { b: null }] }, Object.create(null)]) expect(isJsonValue(ok)).toBe(true);
    for (const bad of [undefined, Number.NaN, Infinity, () => 1, new Date(), new Map(), [undefined], { a: undefined }, 1n]) {
      expect(isJsonValue(bad)).toBe(false);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(isJsonValue(cyclic)).toBe(false);
  });
});
