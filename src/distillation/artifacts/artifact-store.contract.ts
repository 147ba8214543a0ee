/**
 * The contract every `ArtifactStore` adapter passes (see `artifact-store.port.ts`). Run it from an adapter's
 * spec:
 *
 *   describeArtifactStoreContract('filesystem', async () => ({ store, reopen, cleanup }));
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Readable } from 'node:stream';
import type { ArtifactStore } from './artifact-store.port.js';

export interface ArtifactStoreContractFixture {
  store: ArtifactStore;
  /** Another store over the same data (persistence); omit for a store that lives in memory only. */
  reopen?: () => Promise<ArtifactStore>;
  cleanup: () => Promise<void>;
}

const digestOf = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function* chunksOf(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

export function describeArtifactStoreContract(name: string, factory: () => Promise<ArtifactStoreContractFixture>): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let fixture: ArtifactStoreContractFixture;
    let store: ArtifactStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('stores bytes under the sha256 of exactly those bytes and gives them back byte for byte', async () => {
      const bytes = randomBytes(70_000);
      const put = await store.put(bytes);
      expect(put).toEqual({ sha256: digestOf(bytes), sizeBytes: bytes.length, created: true });
      expect(Buffer.from((await store.get(put.sha256))!)).toEqual(bytes);
      expect(await store.stat(put.sha256)).toEqual({ sha256: put.sha256, sizeBytes: bytes.length });
      const opened = await store.openRead(put.sha256);
      expect(opened).toMatchObject({ sha256: put.sha256, sizeBytes: bytes.length });
      expect(await drain(opened!.stream)).toEqual(bytes);
    });

    it('keeps its own copy: changing the caller buffer after put changes nothing stored', async () => {
      const bytes = Buffer.from('model weights v1');
      const { sha256 } = await store.put(bytes);
      bytes.fill(0);
      expect(Buffer.from((await store.get(sha256))!).toString()).toBe('model weights v1');
    });

    it('is idempotent: a second put of the same bytes reports created false and changes nothing', async () => {
      const bytes = randomBytes(1024);
      const first = await store.put(bytes);
      const second = await store.put(Buffer.from(bytes));
      expect(second).toEqual({ ...first, created: false });
      expect(Buffer.from((await store.get(first.sha256))!)).toEqual(bytes);
    });

    it('concurrent puts of the same bytes store them once, and every put resolves to the same address', async () => {
      const bytes = randomBytes(4096);
      const results = await Promise.all(Array.from({ length: 8 }, () => store.put(Buffer.from(bytes))));
      expect(new Set(results.map((r) => r.sha256)).size).toBe(1);
      expect(results.filter((r) => r.created).length).toBeLessThanOrEqual(1);
      expect(Buffer.from((await store.get(results[0]!.sha256))!)).toEqual(bytes);
    });

    it('accepts a put whose stated digest matches', async () => {
      const bytes = randomBytes(100);
      await expect(store.put(bytes, { expectedSha256: digestOf(bytes) })).resolves.toMatchObject({ sha256: digestOf(bytes) });
    });

    it('rejects a digest mismatch with ARTIFACT.DIGEST_MISMATCH and stores nothing', async () => {
      const bytes = randomBytes(100);
      const other = digestOf(Buffer.from('something else'));
      await expect(store.put(bytes, { expectedSha256: other })).rejects.toMatchObject({
        code: 'ARTIFACT.DIGEST_MISMATCH',
        details: { expectedSha256: other, actualSha256: digestOf(bytes) },
      });
      expect(await store.stat(digestOf(bytes))).toBeNull();
      expect(await store.stat(other)).toBeNull();
    });

    it('refuses an empty artifact with ARTIFACT.EMPTY', async () => {
      await expect(store.put(new Uint8Array(0))).rejects.toMatchObject({ code: 'ARTIFACT.EMPTY' });
    });

    it('answers null for an unknown address', async () => {
      const unknown = digestOf(randomBytes(16));
      expect(await store.get(unknown)).toBeNull();
      expect(await store.stat(unknown)).toBeNull();
      expect(await store.openRead(unknown)).toBeNull();
    });

    it.each([
      ['no prefix', 'a'.repeat(64)],
      ['upper-case hex', `sha256:${'A'.repeat(64)}`],
      ['short hex', `sha256:${'a'.repeat(63)}`],
      ['a path', 'sha256:../../etc/passwd'],
      ['another algorithm', `sha512:${'a'.repeat(64)}`],
    ])('refuses a malformed address (%s) with ARTIFACT.INVALID_DIGEST in every method', async (_, address) => {
      for (const call of [() => store.get(address), () => store.stat(address), () => store.openRead(address)]) {
        await expect(call()).rejects.toMatchObject({ code: 'ARTIFACT.INVALID_DIGEST', category: 'bad_request' });
      }
      await expect(store.put(Buffer.from('x'), { expectedSha256: address })).rejects.toMatchObject({ code: 'ARTIFACT.INVALID_DIGEST' });
    });

    it('putStream stores what put of the concatenated chunks would, and is idempotent with put', async () => {
      const bytes = randomBytes(200_000);
      const cuts = [0, 1, 7, 65_536, 65_537, 150_000, bytes.length];
      const chunks = cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
      const put = await store.putStream(chunksOf(chunks));
      expect(put).toEqual({ sha256: digestOf(bytes), sizeBytes: bytes.length, created: true });
      expect(Buffer.from((await store.get(put.sha256))!)).toEqual(bytes);
      expect(await store.putStream(chunksOf([bytes]), { expectedSha256: put.sha256, maxBytes: bytes.length })).toEqual({ ...put, created: false });
      expect(await store.put(bytes)).toEqual({ ...put, created: false });
      const other = randomBytes(300);
      await store.put(other);
      expect(await store.putStream(chunksOf([other.subarray(0, 100), other.subarray(100)]))).toMatchObject({ sha256: digestOf(other), created: false });
    });

    it('putStream refuses a source longer than maxBytes (REQUEST.BODY_TOO_LARGE) without reading on, and stores nothing', async () => {
      const chunks = [randomBytes(10), randomBytes(10), randomBytes(10), randomBytes(10)];
      let pulled = 0;
      async function* counted(): AsyncGenerator<Uint8Array> {
        for (const chunk of chunks) {
          pulled++;
          yield chunk;
        }
      }
      await expect(store.putStream(counted(), { maxBytes: 25 })).rejects.toMatchObject({ code: 'REQUEST.BODY_TOO_LARGE', category: 'payload_too_large' });
      expect(pulled).toBe(3);
      expect(await store.stat(digestOf(Buffer.concat(chunks)))).toBeNull();
      expect(await store.stat(digestOf(Buffer.concat(chunks.slice(0, 3))))).toBeNull();
      const exact = Buffer.concat(chunks.slice(0, 2));
      await expect(store.putStream(chunksOf([exact]), { maxBytes: 20 })).resolves.toMatchObject({ sha256: digestOf(exact), sizeBytes: 20 });
    });

    it('putStream refuses an empty source, a mismatching stated digest and a malformed one, storing nothing', async () => {
      await expect(store.putStream(chunksOf([]))).rejects.toMatchObject({ code: 'ARTIFACT.EMPTY' });
      await expect(store.putStream(chunksOf([new Uint8Array(0)]))).rejects.toMatchObject({ code: 'ARTIFACT.EMPTY' });
      const bytes = randomBytes(100);
      const other = digestOf(Buffer.from('something else'));
      await expect(store.putStream(chunksOf([bytes]), { expectedSha256: other })).rejects.toMatchObject({
        code: 'ARTIFACT.DIGEST_MISMATCH',
        details: { expectedSha256: other, actualSha256: digestOf(bytes) },
      });
      expect(await store.stat(digestOf(bytes))).toBeNull();
      await expect(store.putStream(chunksOf([bytes]), { expectedSha256: 'sha256:xyz' })).rejects.toMatchObject({ code: 'ARTIFACT.INVALID_DIGEST' });
      await expect(store.putStream(chunksOf([bytes]), { maxBytes: 0 })).rejects.toThrow(TypeError);
    });

    it("putStream: a source that fails rejects with the source's error and stores nothing", async () => {
      const first = randomBytes(64);
      const broken = new Error('connection reset');
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield first;
        throw broken;
      }
      await expect(store.putStream(failing())).rejects.toBe(broken);
      expect(await store.stat(digestOf(first))).toBeNull();
    });

    it('keeps artifacts across a reopen (persistent adapters)', async () => {
      if (!fixture.reopen) return;
      const bytes = randomBytes(2048);
      const { sha256 } = await store.put(bytes);
      const reopened = await fixture.reopen();
      expect(Buffer.from((await reopened.get(sha256))!)).toEqual(bytes);
      expect(await reopened.put(bytes)).toMatchObject({ sha256, created: false });
    });
  });
}
