import { describe, expect, it } from '@jest/globals';
import { sign } from 'node:crypto';
import { SignaturePool } from './signature-pool.js';
import { generateSigningKey } from './signing-key.js';

/** Signs `count` payloads under two keys; returns what `add` takes. */
function signed(count: number) {
  const keys = [generateSigningKey(), generateSigningKey()];
  const header = 'eyJhbGciOiJFZERTQSJ9';
  return {
    keys: keys.map((key) => ({ x: key.publicJwk.x, publicKey: key.publicKey })),
    items: Array.from({ length: count }, (_, position) => {
      const keyIndex = position % 2;
      const payload = `{"n":${position},"text":"entrée ${'é'.repeat(position % 7)}"}`;
      const signature = sign(null, Buffer.from(`${header}.${payload}`, 'utf8'), keys[keyIndex]!.privateKey);
      return { header, payload, signature, keyIndex, position };
    }),
  };
}

async function firstFailure(pool: SignaturePool, items: ReturnType<typeof signed>['items']): Promise<number | null> {
  try {
    for (const item of items) {
      pool.add(item.header, item.payload, item.signature, item.keyIndex, item.position);
      const room = pool.room();
      if (room) await room;
    }
    await pool.settled();
    return pool.firstFailure;
  } finally {
    await pool.close();
  }
}

describe('SignaturePool', () => {
  it('accepts good signatures on worker threads (many batches) and inline (a short tail)', async () => {
    const { keys, items } = signed(700);
    expect(await firstFailure(new SignaturePool(keys, 64, 2, 2), items)).toBeNull();
    expect(await firstFailure(new SignaturePool(keys, 1024, 2), items.slice(0, 50))).toBeNull();
  });

  it('reports the smallest failing position, whichever worker or batch found it', async () => {
    const { keys, items } = signed(700);
    const tampered = items.map((item) =>
      item.position === 613 || item.position === 241 ? { ...item, payload: item.payload.replace('"n"', '"m"') } : item,
    );
    expect(await firstFailure(new SignaturePool(keys, 64, 2, 2), tampered)).toBe(241);
    // Another key's signature is a failure too.
    const wrongKey = items.map((item) => (item.position === 500 ? { ...item, keyIndex: 1 - item.keyIndex } : item));
    expect(await firstFailure(new SignaturePool(keys, 64, 2, 2), wrongKey)).toBe(500);
    // In the inline path as well.
    expect(await firstFailure(new SignaturePool(keys, 1024, 2), tampered.slice(0, 300))).toBe(241);
  });
});
