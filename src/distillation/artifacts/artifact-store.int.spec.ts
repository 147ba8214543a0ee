import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { describeArtifactStoreContract } from './artifact-store.contract.js';
import { FilesystemArtifactStore } from './filesystem-artifact-store.js';
import { InMemoryArtifactStore } from './in-memory-artifact-store.js';

describeArtifactStoreContract('InMemoryArtifactStore', async () => ({ store: new InMemoryArtifactStore(), cleanup: async () => {} }));

describeArtifactStoreContract('FilesystemArtifactStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ida-artifacts-'));
  const root = join(dir, 'artifacts');
  return {
    store: new FilesystemArtifactStore(root),
    reopen: async () => new FilesystemArtifactStore(root),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('FilesystemArtifactStore on disk', () => {
  const withStore = async (test: (store: FilesystemArtifactStore, root: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'ida-artifacts-'));
    try {
      const root = join(dir, 'artifacts');
      await test(new FilesystemArtifactStore(root), root);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('lays artifacts out as <root>/sha256/<hex>, files 0600 and folders 0700, leaving no temporary file', async () => {
    await withStore(async (store, root) => {
      const { sha256 } = await store.put(Buffer.from('onnx bytes'));
      const hex = sha256.slice('sha256:'.length);
      const file = join(root, 'sha256', hex);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      for (const folder of [root, join(root, 'sha256'), join(root, 'tmp')]) expect(statSync(folder).mode & 0o777).toBe(0o700);
      expect(readdirSync(join(root, 'sha256'))).toEqual([hex]);
      expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    });
  });

  it('putStream leaves no temporary file, stored or refused, and keeps the same layout', async () => {
    await withStore(async (store, root) => {
      async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
        for (const part of parts) yield Buffer.from(part);
      }
      const { sha256 } = await store.putStream(chunks('onnx ', 'bytes'));
      const file = join(root, 'sha256', sha256.slice('sha256:'.length));
      expect(statSync(file).mode & 0o777).toBe(0o600);
      await expect(store.putStream(chunks('a', 'bb', 'ccc'), { maxBytes: 4 })).rejects.toMatchObject({ code: 'REQUEST.BODY_TOO_LARGE' });
      await expect(store.putStream(chunks('x'), { expectedSha256: sha256 })).rejects.toMatchObject({ code: 'ARTIFACT.DIGEST_MISMATCH' });
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield Buffer.from('part');
        throw new Error('aborted');
      }
      await expect(store.putStream(failing())).rejects.toThrow('aborted');
      expect(readdirSync(join(root, 'tmp'))).toEqual([]);
      expect(readdirSync(join(root, 'sha256'))).toEqual([sha256.slice('sha256:'.length)]);
      const inode = statSync(file).ino;
      expect(await store.putStream(chunks('onnx bytes'))).toMatchObject({ sha256, created: false });
      expect(statSync(file).ino).toBe(inode);
    });
  });

  it('never overwrites: a file already at an address is kept as it is', async () => {
    await withStore(async (store, root) => {
      const { sha256 } = await store.put(Buffer.from('first'));
      const file = join(root, 'sha256', sha256.slice('sha256:'.length));
      const before = statSync(file);
      expect(await store.put(Buffer.from('first'))).toMatchObject({ created: false });
      expect(statSync(file).ino).toBe(before.ino);
    });
  });

  it('refuses to hand out a stored file whose bytes no longer match its address (ARTIFACT.CORRUPT)', async () => {
    await withStore(async (store, root) => {
      const { sha256 } = await store.put(Buffer.from('weights'));
      writeFileSync(join(root, 'sha256', sha256.slice('sha256:'.length)), 'tampered');
      await expect(store.get(sha256)).rejects.toMatchObject({ code: 'ARTIFACT.CORRUPT', category: 'internal' });
    });
  });
});
