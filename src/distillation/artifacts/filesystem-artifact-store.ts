/**
 * The artifact store on the local filesystem: `<root>/sha256/<hex>` (root = `<data>/artifacts`), files 0600,
 * folders 0700. A put writes to `<root>/tmp/` first, fsyncs, then publishes the file under its address with a
 * hard link (which, unlike rename, never replaces an existing file) and fsyncs the folder: a crash leaves
 * either nothing or the whole artifact under its address, never part of one.
 */
import { randomUUID } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LedgerError } from '../../common/ledger-error.js';
import {
  ArtifactDigester,
  artifactDigest,
  checkPut,
  checkPutStreamOptions,
  digestHex,
  type ArtifactInfo,
  type ArtifactStore,
  type OpenedArtifact,
  type PutResult,
  type PutStreamOptions,
} from './artifact-store.port.js';

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** Errors of `link` on filesystems without hard links: fall back to rename after an existence check. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/** Removes a put's temporary file (gone already once renamed into place). */
async function removeTemporary(temporary: string): Promise<void> {
  await unlink(temporary).catch((error: unknown) => {
    if (errno(error) !== 'ENOENT') throw error;
  });
}

export class FilesystemArtifactStore implements ArtifactStore {
  private readonly objects: string;
  private readonly tmp: string;
  private ready: Promise<void> | null = null;

  constructor(readonly root: string) {
    this.objects = join(root, 'sha256');
    this.tmp = join(root, 'tmp');
  }

  async put(bytes: Uint8Array, options: { expectedSha256?: string } = {}): Promise<PutResult> {
    const sha256 = checkPut(bytes, options);
    const path = this.pathOf(sha256);
    const existing = await this.statFile(path);
    if (existing !== null) return { sha256, sizeBytes: existing, created: false };

    await this.ensureFolders();
    const temporary = join(this.tmp, `${digestHex(sha256)}.${randomUUID()}`);
    try {
      const handle = await open(temporary, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { sha256, sizeBytes: bytes.length, created: await this.publish(temporary, path) };
    } finally {
      await removeTemporary(temporary);
    }
  }

  /** Written aside chunk by chunk while hashed, then published as `put` does: never more than a chunk in memory. */
  async putStream(source: AsyncIterable<Uint8Array>, options: PutStreamOptions = {}): Promise<PutResult> {
    checkPutStreamOptions(options);
    await this.ensureFolders();
    const temporary = join(this.tmp, `upload.${randomUUID()}`);
    try {
      const digester = new ArtifactDigester(options);
      const handle = await open(temporary, 'wx', 0o600);
      try {
        for await (const chunk of source) {
          digester.add(chunk);
          for (let written = 0; written < chunk.length; ) written += (await handle.write(chunk, written)).bytesWritten;
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      const sha256 = digester.finish();
      const path = this.pathOf(sha256);
      const existing = await this.statFile(path);
      if (existing !== null) return { sha256, sizeBytes: existing, created: false };
      return { sha256, sizeBytes: digester.size, created: await this.publish(temporary, path) };
    } finally {
      await removeTemporary(temporary);
    }
  }

  async get(sha256: string): Promise<Uint8Array | null> {
    const path = this.pathOf(sha256);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if (errno(error) === 'ENOENT') return null;
      throw error;
    }
    // Disk corruption or tampering must not reach a worker as "the model": fail loudly (500, logged).
    if (artifactDigest(bytes) !== sha256) {
      throw new LedgerError('ARTIFACT.CORRUPT', 'internal', `Stored artifact ${sha256} does not match its address`, { sha256 });
    }
    return bytes;
  }

  async stat(sha256: string): Promise<ArtifactInfo | null> {
    const size = await this.statFile(this.pathOf(sha256));
    return size === null ? null : { sha256, sizeBytes: size };
  }

  /** Streams the file as stored; the reader checks the digest (a worker does, against the recorded one). */
  async openRead(sha256: string): Promise<OpenedArtifact | null> {
    const path = this.pathOf(sha256);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (errno(error) === 'ENOENT') return null;
      throw error;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        await handle.close();
        return null;
      }
      // The stream owns the handle from here and closes it when done or destroyed.
      return { sha256, sizeBytes: info.size, stream: handle.createReadStream({ autoClose: true }) };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The path of an address; `digestHex` refuses anything but 64 hex characters, so no path can escape. */
  private pathOf(sha256: string): string {
    return join(this.objects, digestHex(sha256));
  }

  private async statFile(path: string): Promise<number | null> {
    try {
      const info = await stat(path);
      return info.isFile() ? info.size : null;
    } catch (error) {
      if (errno(error) === 'ENOENT') return null;
      throw error;
    }
  }

  /**
   * Publishes a synced temporary file under its address and makes the entry durable. True when this call
   * published it; false when another put had already stored the same address.
   */
  private async publish(temporary: string, path: string): Promise<boolean> {
    let created = true;
    try {
      await link(temporary, path);
    } catch (error) {
      if (errno(error) === 'EEXIST') created = false;
      else if (!NO_HARD_LINKS.has(errno(error) ?? '')) throw error;
      // No hard links here: a racing put of the same address may replace identical bytes, never others.
      else if ((await this.statFile(path)) !== null) created = false;
      else await rename(temporary, path);
    }
    if (created) await this.syncFolder(this.objects);
    return created;
  }

  private ensureFolders(): Promise<void> {
    this.ready ??= (async () => {
      for (const folder of [this.root, this.objects, this.tmp]) {
        await mkdir(folder, { recursive: true, mode: 0o700 });
        // mkdir leaves an existing folder's mode alone, and the umask may have narrowed a new one: set it.
        await chmod(folder, 0o700);
      }
    })().catch((error: unknown) => {
      this.ready = null;
      throw error;
    });
    return this.ready;
  }

  /** Makes the new directory entry durable (the file's own data was synced before it was linked). */
  private async syncFolder(folder: string): Promise<void> {
    let handle;
    try {
      handle = await open(folder, 'r');
      await handle.sync();
    } catch (error) {
      // Some platforms cannot fsync a directory; the file's data is durable either way.
      if (!['EISDIR', 'EINVAL', 'EPERM', 'EBADF'].includes(errno(error) ?? '')) throw error;
    } finally {
      await handle?.close();
    }
  }
}
