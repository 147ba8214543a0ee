import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { canonicalJson } from '../canonical-json.js';
import type { JsonObject, SignedEntry } from '../entry.js';
import { composeSignedEntryJson, composeUnsignedEntryJson, SIGNED_ENTRY_MEMBERS } from './signed-entry-json.js';

const wellFormedString = fc.string({ unit: 'grapheme', maxLength: 12 });
const jsonObject = fc.dictionary(
  wellFormedString,
  fc.jsonValue({ maxDepth: 3, noUnicodeString: false }).filter((value) => !Object.is(value, -0)),
  { maxKeys: 5 },
) as fc.Arbitrary<JsonObject>;

const signedEntry: fc.Arbitrary<SignedEntry> = fc.record({
  stream: wellFormedString,
  revision: fc.nat(),
  id: fc.uuid(),
  type: wellFormedString,
  schema: fc.nat(1000),
  data: jsonObject,
  meta: fc.record({
    tenant: wellFormedString,
    actor: fc.record({ sub: wellFormedString, role: fc.constantFrom('pipeline' as const, 'overseer' as const) }),
    correlationId: wellFormedString,
    causationId: fc.option(wellFormedString),
    commandId: wellFormedString,
    recordedAt: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  }),
  prev: fc.option(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 })),
  kid: fc.base64String({ minLength: 4, maxLength: 44 }).map((s) => s.replace(/[+/=]/gu, '_')),
  sig: fc.base64String({ minLength: 4, maxLength: 120 }).map((s) => `h..${s.replace(/[+/=]/gu, '-')}`),
});

describe('composeSignedEntryJson', () => {
  it('equals canonicalJson of the whole signed entry', () => {
    fc.assert(
      fc.property(signedEntry, (entry) => {
        expect(composeSignedEntryJson(entry, canonicalJson(entry.data), canonicalJson(entry.meta))).toBe(canonicalJson(entry));
      }),
      { numRuns: 500 },
    );
  });

  it('without `sig`: equals canonicalJson of the entry before signing (the signature\'s payload)', () => {
    fc.assert(
      fc.property(signedEntry, ({ sig: _sig, ...unsigned }) => {
        expect(composeUnsignedEntryJson(unsigned, canonicalJson(unsigned.data), canonicalJson(unsigned.meta))).toBe(canonicalJson(unsigned));
      }),
      { numRuns: 500 },
    );
  });

  it('writes every member of a signed entry, in RFC 8785 order', () => {
    const entry = fc.sample(signedEntry, 1)[0]!;
    expect(Object.keys(JSON.parse(composeSignedEntryJson(entry, '{}', '{}')))).toEqual([...SIGNED_ENTRY_MEMBERS]);
    expect([...SIGNED_ENTRY_MEMBERS].sort()).toEqual([...SIGNED_ENTRY_MEMBERS]);
    expect(Object.keys(entry).sort()).toEqual([...SIGNED_ENTRY_MEMBERS]);
  });
});
