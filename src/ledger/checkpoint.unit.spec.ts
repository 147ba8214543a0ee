import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  formatCheckpointBody,
  isValidKeyName,
  noteKeyId,
  noteVerifierKey,
  parseCheckpointBody,
  parseVerifierKey,
  signCheckpoint,
  signNote,
  verifyCheckpointNote,
  type CheckpointBody,
} from './checkpoint.js';
import { generateSigningKey, signingKeyFromPrivateJwk } from './signing-key.js';

/**
 * C2SP signed notes / tlog checkpoints. Interoperability vectors signed by Go's golang.org/x/mod/sumdb/note:
 * - note_test.go: the "PeterNeumann" key (signer key and verifier key) and the note it signs;
 * - two signed tree heads of the Go checksum database (sum.golang.org), checked with its published verifier
 *   key (cmd/go/internal/modfetch/key.go), whose base64 contains '+'.
 */
const PETER = {
  vkey: 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
  skey: 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz',
  text: "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
  signature: '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n',
};
const ENOCH = {
  vkey: 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop',
  signature: '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n',
};
const SUMDB_VKEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
const SUMDB_NOTES = [
  {
    size: 31700353,
    root: 'qINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=',
    note:
      'go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\n' +
      '— sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAdFo47fooyWKMHb89k11GJh5zHIfNCOBmwn/C3YI8oW9/C8DJ87F61QqspBYwM=\n',
  },
  {
    size: 65209736,
    root: '5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo=',
    note:
      'go.sum database tree\n65209736\n5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo=\n\n' +
      '— sum.golang.org Az3grnbssgK7ubgFX36gVETtNv0U23qxyAhAMai2QUfeGa3nB/akvkMdlUErfcZz7l/R3cVtYspg3dxXABkGZZKdsQ8=\n',
  },
];

/** The Go signer key "PRIVATE+KEY+<name>+<hash>+base64(0x01 || seed)" as our SigningKey. */
function peterKey() {
  const seed = Buffer.from(PETER.skey.split('+').slice(4).join('+'), 'base64');
  expect(seed.length).toBe(33);
  expect(seed[0]).toBe(0x01);
  const pub = Buffer.from(PETER.vkey.split('+')[2]!, 'base64').subarray(1);
  return signingKeyFromPrivateJwk({ kty: 'OKP', crv: 'Ed25519', d: seed.subarray(1).toString('base64url'), x: pub.toString('base64url') });
}

const key = generateSigningKey();
const otherKey = generateSigningKey();
const ORIGIN = 'example.com/ida-ledger/log';
const BODY: CheckpointBody = { origin: ORIGIN, size: 1234, rootHash: createHash('sha256').update('root').digest() };

describe('checkpoint body', () => {
  it('is <origin>\\n<size>\\n<base64 root>\\n', () => {
    expect(formatCheckpointBody(BODY)).toBe(`${ORIGIN}\n1234\n${BODY.rootHash.toString('base64')}\n`);
    expect(formatCheckpointBody({ ...BODY, size: 0 })).toBe(`${ORIGIN}\n0\n${BODY.rootHash.toString('base64')}\n`);
  });

  it('parses back what it formats, for any size and root', () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (size, root) => {
        const body = { origin: ORIGIN, size, rootHash: Buffer.from(root) };
        expect(parseCheckpointBody(formatCheckpointBody(body))).toEqual(body);
      }),
    );
  });

  it('allows extension lines after the root, as C2SP does', () => {
    expect(parseCheckpointBody(`${formatCheckpointBody(BODY)}extension\n`)).toEqual(BODY);
  });

  it.each([
    ['a missing final newline', `${ORIGIN}\n1234\n${BODY.rootHash.toString('base64')}`],
    ['an empty origin', `\n1234\n${BODY.rootHash.toString('base64')}\n`],
    ['a size with a leading zero', `${ORIGIN}\n01234\n${BODY.rootHash.toString('base64')}\n`],
    ['a negative size', `${ORIGIN}\n-1\n${BODY.rootHash.toString('base64')}\n`],
    ['a size with a sign', `${ORIGIN}\n+1\n${BODY.rootHash.toString('base64')}\n`],
    ['a size in exponent form', `${ORIGIN}\n1e3\n${BODY.rootHash.toString('base64')}\n`],
    ['a size past 2^53', `${ORIGIN}\n9007199254740993\n${BODY.rootHash.toString('base64')}\n`],
    ['a short root', `${ORIGIN}\n1\n${BODY.rootHash.subarray(1).toString('base64')}\n`],
    ['a base64url root', `${ORIGIN}\n1\n${Buffer.alloc(32, 0xfb).toString('base64url')}\n`],
    ['an unpadded root', `${ORIGIN}\n1\n${BODY.rootHash.toString('base64').replace(/=$/u, '')}\n`],
    ['a root with non-zero padding bits', `${ORIGIN}\n1\n${BODY.rootHash.toString('base64').replace(/.=$/u, (c) => `${String.fromCharCode(c.charCodeAt(0) + 1)}`)}\n`],
  ])('refuses a body with %s', (_, text) => {
    expect(parseCheckpointBody(text)).toBeNull();
  });

  it('refuses to format what it could not parse back', () => {
    for (const origin of ['', 'with space', 'with+plus', 'with\nnewline', 'with\ttab', 'nel\u0085', 'nbsp\u00a0', 'lone\ud800'])
      expect(() => formatCheckpointBody({ ...BODY, origin })).toThrow();
    for (const size of [-1, 1.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY])
      expect(() => formatCheckpointBody({ ...BODY, size })).toThrow();
    expect(() => formatCheckpointBody({ ...BODY, rootHash: Buffer.alloc(31) })).toThrow();
  });

  it('key names follow Go: non-empty, no "+", no Unicode space', () => {
    expect(isValidKeyName('PeterNeumann')).toBe(true);
    expect(isValidKeyName('sum.golang.org')).toBe(true);
    expect(isValidKeyName('example.com/log-ü')).toBe(true);
    for (const name of ['', 'a b', 'a+b', 'a\nb', 'a\u2003b', 'a\u0085b', 'a\u3000b', '\ud800']) expect(isValidKeyName(name)).toBe(false);
  });
});

describe('verifier keys', () => {
  it('are <name>+<hex key id>+<base64(0x01 || public key)>, and parse back', () => {
    const vkey = noteVerifierKey(ORIGIN, key.publicJwk);
    const [name, hexId, b64] = [vkey.slice(0, ORIGIN.length), vkey.slice(ORIGIN.length + 1, ORIGIN.length + 9), vkey.slice(ORIGIN.length + 10)];
    expect(name).toBe(ORIGIN);
    expect(hexId).toMatch(/^[0-9a-f]{8}$/u);
    const raw = Buffer.from(b64, 'base64');
    expect(raw.length).toBe(33);
    expect(raw[0]).toBe(0x01);
    expect(raw.subarray(1).toString('base64url')).toBe(key.publicJwk.x);
    // The key id: SHA-256(name || "\n" || 0x01 || public key)[:4].
    expect(hexId).toBe(createHash('sha256').update(`${ORIGIN}\n`).update(raw).digest().subarray(0, 4).toString('hex'));
    const parsed = parseVerifierKey(vkey);
    expect(parsed.name).toBe(ORIGIN);
    expect(parsed.keyId.toString('hex')).toBe(hexId);
    expect(parsed.publicKey.export({ format: 'jwk' })).toEqual(key.publicJwk);
  });

  it('parse back for every key, also when the base64 key contains "+" (about half of all keys)', () => {
    let withPlus = 0;
    for (let i = 0; i < 64; i++) {
      const k = generateSigningKey();
      const vkey = noteVerifierKey('log', k.publicJwk);
      if (vkey.split('+').length > 3) withPlus++;
      expect(parseVerifierKey(vkey).publicKey.export({ format: 'jwk' })).toEqual(k.publicJwk);
    }
    expect(withPlus).toBeGreaterThan(0);
  });

  it("match Go's: the PeterNeumann verifier key, and sum.golang.org's (which contains '+')", () => {
    expect(noteVerifierKey('PeterNeumann', peterKey().publicJwk)).toBe(PETER.vkey);
    expect(noteKeyId('PeterNeumann', Buffer.from(peterKey().publicJwk.x, 'base64url')).toString('hex')).toBe('c74f20a3');
    expect(parseVerifierKey(PETER.vkey).keyId.toString('hex')).toBe('c74f20a3');
    expect(parseVerifierKey(ENOCH.vkey).keyId.toString('hex')).toBe('af0cfe78');
    const sumdb = parseVerifierKey(SUMDB_VKEY);
    expect(sumdb.name).toBe('sum.golang.org');
    expect(sumdb.keyId.toString('hex')).toBe('033de0ae');
  });

  it("refuse every mangling Go's TestNewVerifier refuses", () => {
    for (const vkey of [PETER.vkey, SUMDB_VKEY]) {
      const accepted: string[] = [];
      for (let i = 0; i <= vkey.length; i++)
        for (let j = i + 1; j <= vkey.length; j++) {
          if (i === 0 && j === vkey.length) continue;
          const part = vkey.slice(i, j);
          if (part.trim() !== part) continue; // (surrounding whitespace is trimmed, as a key read from a file)
          try {
            parseVerifierKey(part);
            accepted.push(part);
          } catch {
            // refused, as it should be
          }
        }
      for (let i = 0; i < vkey.length; i++) {
        const changed = vkey.slice(0, i) + String.fromCharCode(vkey.charCodeAt(i) + 1) + vkey.slice(i + 1);
        try {
          parseVerifierKey(changed);
          accepted.push(changed);
        } catch {
          // refused
        }
      }
      expect(accepted).toEqual([]);
    }
    expect(() => parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==')).toThrow();
    expect(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW')).toThrow();
  });
});

describe('signed notes and checkpoints', () => {
  it("sign exactly as Go's note.Sign does (PeterNeumann vector)", () => {
    expect(signNote(PETER.text, 'PeterNeumann', peterKey())).toBe(`${PETER.text}\n${PETER.signature}`);
  });

  it('verify a note signed by Go: its signature is accepted (its body is not a checkpoint)', () => {
    const verifier = parseVerifierKey(PETER.vkey);
    const note = `${PETER.text}\n${PETER.signature}`;
    expect(verifyCheckpointNote(note, verifier)).toEqual({ ok: false, reason: 'checkpoint body is malformed' });
    expect(verifyCheckpointNote(`${PETER.text}\n${PETER.signature}${ENOCH.signature}`, verifier)).toEqual({ ok: false, reason: 'checkpoint body is malformed' });
    expect(verifyCheckpointNote(note.replace('cryptography', 'cryptographY'), verifier)).toEqual({ ok: false, reason: 'invalid signature by the verifier key' });
    expect(verifyCheckpointNote(`${PETER.text}\n${ENOCH.signature}`, verifier)).toEqual({ ok: false, reason: 'no valid signature by the verifier key' });
  });

  it.each(SUMDB_NOTES)('verify a checkpoint signed by sum.golang.org (size $size)', ({ note, size, root }) => {
    const result = verifyCheckpointNote(note, parseVerifierKey(SUMDB_VKEY));
    expect(result).toEqual({ ok: true, body: { origin: 'go.sum database tree', size, rootHash: Buffer.from(root, 'base64') } });
    // With another signer's line added, in either order.
    const [text, line] = note.split('\n\n') as [string, string];
    expect(verifyCheckpointNote(`${text}\n\n${ENOCH.signature}${line}`, parseVerifierKey(SUMDB_VKEY)).ok).toBe(true);
    expect(verifyCheckpointNote(`${note}${ENOCH.signature}`, parseVerifierKey(SUMDB_VKEY)).ok).toBe(true);
    // Changed size, root or signature.
    const verifier = parseVerifierKey(SUMDB_VKEY);
    expect(verifyCheckpointNote(note.replace(`\n${size}\n`, `\n${size + 1}\n`), verifier).ok).toBe(false);
    expect(verifyCheckpointNote(note.replace(root, Buffer.alloc(32).toString('base64')), verifier).ok).toBe(false);
    expect(verifyCheckpointNote(note.replace('\n— sum.golang.org Az3grn', '\n— sum.golang.org Az3grm'), verifier).ok).toBe(false);
    expect(verifyCheckpointNote(note, parseVerifierKey(PETER.vkey)).ok).toBe(false);
  });

  it("refuse the malformed notes Go's TestOpen refuses", () => {
    const { note } = SUMDB_NOTES[1]!;
    const verifier = parseVerifierKey(SUMDB_VKEY);
    const [text, line] = note.split('\n\n') as [string, string];
    const sigLine = line.slice(0, -1);
    for (const bad of [
      `${text}\n`,
      `${text}\n\n`,
      `${text}\n\n${sigLine}`,
      `${text}\n\n— Bad Name ${sigLine.split(' ')[2]}\n`,
      `${text}\n\n${line}Unexpected line.\n`,
      `${text}\n\n${line}\n`,
      `${text}\n\n${sigLine.slice(0, 60)}ABCD${sigLine.slice(60)}\n`,
      `${text}\n\n${sigLine.slice(0, -1)}\n`,
      `${text}\n\n${sigLine} \n`,
    ])
      expect(verifyCheckpointNote(bad, verifier).ok).toBe(false);
  });

  it('sign/verify round trip, with the body parsed back', () => {
    const note = signCheckpoint(BODY, key);
    const body = formatCheckpointBody(BODY);
    expect(note.startsWith(`${body}\n— ${ORIGIN} `)).toBe(true);
    expect(note.endsWith('\n')).toBe(true);
    const line = note.slice(body.length + 1, -1);
    const raw = Buffer.from(line.split(' ')[2]!, 'base64');
    expect(raw.length).toBe(68);
    expect(raw.subarray(0, 4).equals(noteKeyId(ORIGIN, Buffer.from(key.publicJwk.x, 'base64url')))).toBe(true);
    expect(verifyCheckpointNote(note, parseVerifierKey(noteVerifierKey(ORIGIN, key.publicJwk)))).toEqual({ ok: true, body: BODY });
  });

  it('any tampering fails: body, size, root, signature, key, key name', () => {
    const verifier = parseVerifierKey(noteVerifierKey(ORIGIN, key.publicJwk));
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 40 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (size, root, position, xor) => {
          const body = { origin: ORIGIN, size, rootHash: Buffer.from(root) };
          const note = signCheckpoint(body, key);
          expect(verifyCheckpointNote(note, verifier)).toEqual({ ok: true, body });
          // Any changed byte of the note (body, blank line, signature line) is refused.
          const bytes = Buffer.from(note, 'utf8');
          const at = position % bytes.length;
          bytes[at]! ^= xor;
          const tampered = bytes.toString('utf8');
          if (tampered !== note) expect(verifyCheckpointNote(tampered, verifier).ok).toBe(false);
          expect(verifyCheckpointNote(signCheckpoint({ ...body, size: size + 1 }, key).replace(`\n${size + 1}\n`, `\n${size}\n`), verifier).ok).toBe(false);
          expect(verifyCheckpointNote(signCheckpoint(body, otherKey), verifier).ok).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
    // The same key under another name is another verifier key (the name is in the key id).
    expect(verifyCheckpointNote(signCheckpoint(BODY, key), parseVerifierKey(noteVerifierKey('other.example/log', key.publicJwk))).ok).toBe(false);
    // A forged line that names the right key but carries another key's signature.
    const forged = signCheckpoint(BODY, otherKey).replace(/ [^ ]+\n$/u, (sig) => {
      const raw = Buffer.from(sig.trim(), 'base64');
      noteKeyId(ORIGIN, Buffer.from(key.publicJwk.x, 'base64url')).copy(raw, 0);
      return ` ${raw.toString('base64')}\n`;
    });
    expect(verifyCheckpointNote(forged, verifier)).toEqual({ ok: false, reason: 'invalid signature by the verifier key' });
  });
});
