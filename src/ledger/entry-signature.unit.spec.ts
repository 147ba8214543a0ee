import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FlattenedSign, flattenedVerify } from 'jose';
import { canonicalJson } from './canonical-json.js';
import type { JsonObject, SignedEntry, UnsignedEntry } from './entry.js';
import { protectedHeaderFor, signEntry, signEntryAsync, verifyEntrySignature } from './entry-signature.js';
import { generateSigningKey, signingKeyFromPrivateJwk, type SigningKey } from './signing-key.js';

/** RFC 8037 appendix A.1's Ed25519 key: a fixed key, so that one signature can be pinned below. */
const RFC8037_KEY = signingKeyFromPrivateJwk({
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
});

const key = generateSigningKey();
const otherKey = generateSigningKey();

function entryFor(signer: SigningKey, data: JsonObject = { queryId: 'q-1', decision: 'override', note: 'é€😀' }): UnsignedEntry {
  return {
    stream: 'query-0190a3b2-7c1d-7abc-8def-0123456789ab',
    revision: 3,
    id: '0190a3b2-7c1d-7abc-8def-0123456789ab',
    type: 'HumanOverrideRecorded',
    schema: 1,
    data,
    meta: {
      tenant: 'acme',
      actor: { sub: 'user-1', role: 'overseer' },
      correlationId: 'corr-1',
      causationId: null,
      commandId: 'cmd-1',
      recordedAt: '2026-01-02T03:04:05.678Z',
    },
    prev: 'ab'.repeat(32),
    kid: signer.kid,
  };
}

function parts(sig: string): { protected: string; signature: string } {
  const [protectedHeader, payload, signature] = sig.split('.');
  expect(payload).toBe('');
  return { protected: protectedHeader!, signature: signature! };
}

/** jose's verification of the detached, unencoded-payload JWS over JCS(entry without sig). */
async function joseVerifies(entry: SignedEntry, publicKey = key.publicKey): Promise<boolean> {
  const { sig, ...unsigned } = entry;
  try {
    const result = await flattenedVerify({ ...parts(sig), payload: new TextEncoder().encode(canonicalJson(unsigned)) }, publicKey);
    expect(result.protectedHeader).toEqual({ alg: 'EdDSA', b64: false, crit: ['b64'], kid: entry.kid });
    return true;
  } catch {
    return false;
  }
}

describe('signEntry / signEntryAsync', () => {
  it('sign the same bytes the same way: Ed25519 is deterministic', async () => {
    const entry = entryFor(key);
    const sync = signEntry(entry, key);
    const async_ = await signEntryAsync(entry, key);
    expect(async_.sig).toBe(sync.sig);
    expect(signEntry(entry, key).sig).toBe(sync.sig);
    expect(sync).toEqual({ ...entry, sig: sync.sig });
  });

  it('write a detached compact JWS with the RFC 7797 protected header', () => {
    const signed = signEntry(entryFor(key), key);
    expect(signed.sig).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]{86}$/u);
    const header = JSON.parse(Buffer.from(parts(signed.sig).protected, 'base64url').toString('utf8'));
    expect(header).toEqual({ alg: 'EdDSA', b64: false, crit: ['b64'], kid: key.kid });
    expect(parts(signed.sig).protected).toBe(protectedHeaderFor(key.kid));
  });

  it('pin one signature by the RFC 8037 key (a regression vector; jose verifies it below)', async () => {
    const signed = signEntry(entryFor(RFC8037_KEY), RFC8037_KEY);
    expect(RFC8037_KEY.kid).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
    expect(signed.sig).toBe(
      'eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il0sImtpZCI6ImtQcktfcW14VldhWVZBOXd3QkY2SXVvM3ZWeno3VHhIQ1R3WEJ5Z3JTNGsifQ' +
        '..' +
        PINNED_SIGNATURE,
    );
    expect(await joseVerifies(signed, RFC8037_KEY.publicKey)).toBe(true);
  });

  it('refuse an entry whose kid is not the signing key', async () => {
    const entry = { ...entryFor(key), kid: otherKey.kid };
    expect(() => signEntry(entry, key)).toThrow(/is not the signing key/u);
    await expect(signEntryAsync(entry, key)).rejects.toThrow(/is not the signing key/u);
  });

  it('refuse (sync: throw, async: reject) an entry that is not JSON', async () => {
    const entry = entryFor(key, { bad: Number.NaN });
    expect(() => signEntry(entry, key)).toThrow(TypeError);
    await expect(signEntryAsync(entry, key)).rejects.toThrow(TypeError);
  });

  it('re-signing a signed entry signs it without its old sig', async () => {
    const once = signEntry(entryFor(key), key);
    const again = signEntry({ ...once, data: { changed: true } } as UnsignedEntry, key);
    expect(verifyEntrySignature(again, key.publicKey)).toEqual({ ok: true });
    const againAsync = await signEntryAsync({ ...once, data: { changed: true } } as UnsignedEntry, key);
    expect(againAsync.sig).toBe(again.sig);
  });

  it('signEntryAsync signs a payload the caller composed as it signs the entry; with a sig still on, the payload is ignored', async () => {
    const entry = entryFor(key);
    const composed = await signEntryAsync(entry, key, canonicalJson(entry));
    expect(composed).toEqual(await signEntryAsync(entry, key));
    expect(verifyEntrySignature(composed, key.publicKey)).toEqual({ ok: true });
    // A signed entry handed back carries its old sig: its payload would be the wrong bytes, so it is not used.
    const resigned = await signEntryAsync({ ...composed, data: { changed: true } } as UnsignedEntry, key, canonicalJson(entry));
    expect(verifyEntrySignature(resigned, key.publicKey)).toEqual({ ok: true });
  });
});

describe('jose verifies the entry JWS (DESIGN §5: "a JWS jose\'s verify accepts")', () => {
  it('flattenedVerify({ protected, payload: JCS(entry without sig), signature }) succeeds', async () => {
    const signed = signEntry(entryFor(key), key);
    expect(await joseVerifies(signed)).toBe(true);
    expect(await joseVerifies(await signEntryAsync(entryFor(key), key))).toBe(true);
  });

  it('jose signing the same payload with the same header gives the same signature', async () => {
    const entry = entryFor(key);
    const jws = await new FlattenedSign(new TextEncoder().encode(canonicalJson(entry)))
      .setProtectedHeader({ alg: 'EdDSA', b64: false, crit: ['b64'], kid: key.kid })
      .sign(key.privateKey);
    expect(`${jws.protected}..${jws.signature}`).toBe(signEntry(entry, key).sig);
  });

  it('jose refuses it with another key, another payload, or a changed signature', async () => {
    const signed = signEntry(entryFor(key), key);
    expect(await joseVerifies(signed, otherKey.publicKey)).toBe(false);
    expect(await joseVerifies({ ...signed, revision: 4 })).toBe(false);
    const { signature } = parts(signed.sig);
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    expect(await joseVerifies({ ...signed, sig: signed.sig.replace(signature, flipped) })).toBe(false);
  });
});

describe('verifyEntrySignature', () => {
  const signed = signEntry(entryFor(key), key);

  it('accepts a good entry, also after a JSON round trip (the stored form)', () => {
    expect(verifyEntrySignature(signed, key.publicKey)).toEqual({ ok: true });
    expect(verifyEntrySignature(JSON.parse(JSON.stringify(signed)) as SignedEntry, key.publicKey)).toEqual({ ok: true });
    // Member order does not matter: the signed bytes are canonical.
    const reversed = Object.fromEntries(Object.entries(signed).reverse()) as unknown as SignedEntry;
    expect(verifyEntrySignature(reversed, key.publicKey)).toEqual({ ok: true });
  });

  const changes: [string, (e: SignedEntry) => SignedEntry][] = [
    ['stream', (e) => ({ ...e, stream: `${e.stream}x` })],
    ['revision', (e) => ({ ...e, revision: e.revision + 1 })],
    ['revision as a string', (e) => ({ ...e, revision: String(e.revision) as unknown as number })],
    ['id', (e) => ({ ...e, id: e.id.replace(/b$/u, 'c') })],
    ['type', (e) => ({ ...e, type: 'HumanOverrideRevoked' })],
    ['schema', (e) => ({ ...e, schema: 2 })],
    ['a data value', (e) => ({ ...e, data: { ...e.data, decision: 'approve' } })],
    ['an added data member', (e) => ({ ...e, data: { ...e.data, extra: null } })],
    ['a removed data member', (e) => ({ ...e, data: { queryId: e.data.queryId!, decision: e.data.decision! } })],
    ['a data string by one code unit', (e) => ({ ...e, data: { ...e.data, note: 'é€😁' } })],
    ['meta.tenant', (e) => ({ ...e, meta: { ...e.meta, tenant: 'evil' } })],
    ['meta.actor.sub', (e) => ({ ...e, meta: { ...e.meta, actor: { ...e.meta.actor, sub: 'user-2' } } })],
    ['meta.actor.role', (e) => ({ ...e, meta: { ...e.meta, actor: { ...e.meta.actor, role: 'admin' } } })],
    ['meta.causationId', (e) => ({ ...e, meta: { ...e.meta, causationId: 'cause' } })],
    ['meta.recordedAt', (e) => ({ ...e, meta: { ...e.meta, recordedAt: '2026-01-02T03:04:05.679Z' } })],
    ['prev', (e) => ({ ...e, prev: 'ac'.repeat(32) })],
    ['prev to null', (e) => ({ ...e, prev: null })],
    ['an added top-level member', (e) => ({ ...e, position: 7 }) as SignedEntry],
  ];
  it.each(changes)('rejects a changed %s', (_, change) => {
    const result = verifyEntrySignature(change(signed), key.publicKey);
    expect(result).toEqual({ ok: false, reason: 'signature does not verify' });
  });

  it('rejects a changed kid (before checking the signature)', () => {
    expect(verifyEntrySignature({ ...signed, kid: otherKey.kid }, key.publicKey)).toEqual({ ok: false, reason: 'JWS kid differs from the entry kid' });
  });

  it('rejects another key', () => {
    expect(verifyEntrySignature(signed, otherKey.publicKey)).toEqual({ ok: false, reason: 'signature does not verify' });
  });

  it('rejects every changed character of the signature, including the malleable last one', () => {
    const { protected: header, signature } = parts(signed.sig);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < signature.length; i++) {
      const replacement = alphabet[(alphabet.indexOf(signature[i]!) + 1) % 64]!;
      const changed = signature.slice(0, i) + replacement + signature.slice(i + 1);
      expect(verifyEntrySignature({ ...signed, sig: `${header}..${changed}` }, key.publicKey).ok).toBe(false);
    }
    // 64 bytes fill 85⅓ characters: the last character carries 4 unused bits. Another spelling of the same
    // bytes must still be refused, or the stored entry (and its leaf hash) would be malleable.
    const last = alphabet.indexOf(signature.at(-1)!);
    const sameBytes = signature.slice(0, -1) + alphabet[last ^ 1]!;
    expect(Buffer.from(sameBytes, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
    expect(verifyEntrySignature({ ...signed, sig: `${header}..${sameBytes}` }, key.publicKey)).toEqual({
      ok: false,
      reason: 'JWS signature is not canonical base64url Ed25519',
    });
    // Padding, whitespace or a truncated signature are other spellings too.
    for (const spelling of [`${signature}=`, `${signature}==`, ` ${signature}`, signature.slice(0, -1), `${signature}A`])
      expect(verifyEntrySignature({ ...signed, sig: `${header}..${spelling}` }, key.publicKey).ok).toBe(false);
  });

  it('rejects a changed protected header, even one that says the same thing', () => {
    const { signature } = parts(signed.sig);
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    const cases: [string, string][] = [
      [header({ alg: 'none', b64: false, crit: ['b64'], kid: key.kid }), 'JWS alg is not EdDSA'],
      [header({ alg: 'HS256', b64: false, crit: ['b64'], kid: key.kid }), 'JWS alg is not EdDSA'],
      [header({ alg: 'Ed25519', b64: false, crit: ['b64'], kid: key.kid }), 'JWS alg is not EdDSA'],
      [header({ alg: 'EdDSA', kid: key.kid }), 'JWS is not an unencoded (b64=false) payload'],
      [header({ alg: 'EdDSA', b64: true, crit: ['b64'], kid: key.kid }), 'JWS is not an unencoded (b64=false) payload'],
      [header({ alg: 'EdDSA', b64: false, kid: key.kid }), 'JWS is not an unencoded (b64=false) payload'],
      [header({ alg: 'EdDSA', b64: false, crit: ['b64'], kid: otherKey.kid }), 'JWS kid differs from the entry kid'],
      [header({ alg: 'EdDSA', b64: false, crit: ['b64'] }), 'JWS kid differs from the entry kid'],
      [header({ kid: key.kid, alg: 'EdDSA', b64: false, crit: ['b64'] }), 'JWS protected header is not canonical'],
      [header({ alg: 'EdDSA', b64: false, crit: ['b64'], kid: key.kid, x: 1 }), 'JWS protected header is not canonical'],
      [`${protectedHeaderFor(key.kid)}=`, 'JWS protected header is not canonical'],
      [Buffer.from('not json').toString('base64url'), 'JWS protected header is not JSON'],
      [Buffer.from('null').toString('base64url'), 'JWS protected header is not a JSON object'],
      [Buffer.from('[1]').toString('base64url'), 'JWS protected header is not a JSON object'],
      [Buffer.from('"EdDSA"').toString('base64url'), 'JWS protected header is not a JSON object'],
    ];
    for (const [protectedHeader, reason] of cases)
      expect(verifyEntrySignature({ ...signed, sig: `${protectedHeader}..${signature}` }, key.publicKey)).toEqual({ ok: false, reason });
  });

  it('rejects signatures that are not a detached compact JWS', () => {
    const { protected: header, signature } = parts(signed.sig);
    const payload = Buffer.from(canonicalJson(entryFor(key))).toString('base64url');
    for (const sig of ['', `${header}.${signature}`, `${header}.${payload}.${signature}`, `${header}..${signature}.`, `${header}...${signature}`])
      expect(verifyEntrySignature({ ...signed, sig }, key.publicKey)).toEqual({ ok: false, reason: 'signature is not a detached compact JWS' });
    for (const sig of [undefined, null, 42, {}, '..', `..${signature}`, `${header}..`])
      expect(verifyEntrySignature({ ...signed, sig } as unknown as SignedEntry, key.publicKey).ok).toBe(false);
  });
});

describe('properties over random entry data', () => {
  const data = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }) as fc.Arbitrary<JsonObject>;

  it('every signed entry verifies (ours and jose), sync and async agree, and changed data fails', async () => {
    await fc.assert(
      fc.asyncProperty(data, fc.string({ minLength: 1 }), async (payload, extraKey) => {
        const entry = entryFor(key, payload);
        const signed = signEntry(entry, key);
        expect((await signEntryAsync(entry, key)).sig).toBe(signed.sig);
        expect(verifyEntrySignature(signed, key.publicKey)).toEqual({ ok: true });
        const stored = JSON.parse(JSON.stringify(signed)) as SignedEntry;
        expect(verifyEntrySignature(stored, key.publicKey)).toEqual({ ok: true });
        expect(await joseVerifies(stored)).toBe(true);

        const changed = { ...signed, data: { ...signed.data, [extraKey]: Object.hasOwn(signed.data, extraKey) ? [signed.data[extraKey]!] : 0 } };
        expect(verifyEntrySignature(changed, key.publicKey).ok).toBe(false);
        expect(verifyEntrySignature(signed, otherKey.publicKey).ok).toBe(false);
      }),
      { numRuns: 60 },
    );
  });
});

const PINNED_SIGNATURE = 'mHqIA2knhEUPoOVFdPPmkIASpmck2AN4K1qX4BYBd0LeRMAh6v_cf6CHuCwvf6nQlQE20bMUq8D0DRE86KmnCA';
