import type { SignedEntry, UnsignedEntry } from '../entry.js';

/**
 * RFC 8785 bytes of a signed entry, composed from the canonical JSON of its `data` and `meta` (computed once,
 * when the append was accepted) instead of canonicalising the whole entry again for its leaf hash.
 *
 * Why this is byte-exact: JCS sorts members by UTF-16 code units, and the ten members of a signed entry sort as
 * data < id < kid < meta < prev < revision < schema < sig < stream < type; strings serialise exactly as
 * `JSON.stringify` does (JCS §3.2.2.2, and what `canonicalize` itself calls); the integers are safe integers,
 * whose ES serialisation is the JCS one. The caller guarantees the preconditions (`validate*` in
 * sqlite-event-store.ts): integer revision/schema, strings without lone surrogates, `dataJson` and `metaJson`
 * being `canonicalJson` of the entry's data and meta. `signed-entry-json.unit.spec.ts` checks the equality
 * against `canonicalJson` on random entries; a new entry member must be added here too (that spec fails otherwise).
 */
export function composeSignedEntryJson(entry: SignedEntry, dataJson: string, metaJson: string): string {
  return composeEntryJson(entry, dataJson, metaJson, `,"sig":${JSON.stringify(entry.sig)}`);
}

/**
 * RFC 8785 bytes of an entry before it is signed (all members but `sig`): the payload its signature covers, from
 * the same pieces and under the same preconditions as `composeSignedEntryJson` — so the store canonicalises an
 * entry's data and meta once, for both its signature and its leaf hash.
 */
export function composeUnsignedEntryJson(entry: UnsignedEntry, dataJson: string, metaJson: string): string {
  return composeEntryJson(entry, dataJson, metaJson, '');
}

/** The members in JCS order; `sig` (written or empty) sorts between `schema` and `stream`. */
function composeEntryJson(entry: UnsignedEntry, dataJson: string, metaJson: string, sigMember: string): string {
  const prev = entry.prev === null ? 'null' : JSON.stringify(entry.prev);
  return (
    `{"data":${dataJson},"id":${JSON.stringify(entry.id)},"kid":${JSON.stringify(entry.kid)},"meta":${metaJson}` +
    `,"prev":${prev},"revision":${entry.revision},"schema":${entry.schema}${sigMember}` +
    `,"stream":${JSON.stringify(entry.stream)},"type":${JSON.stringify(entry.type)}}`
  );
}

/** The members `composeSignedEntryJson` writes, in JCS order (the unit spec compares it with the entry type). */
export const SIGNED_ENTRY_MEMBERS = ['data', 'id', 'kid', 'meta', 'prev', 'revision', 'schema', 'sig', 'stream', 'type'] as const;
