/** The artifact store in memory: for tests, and for tools that never need the bytes to outlive the process. */
import { Readable } from 'node:stream';
import {
  ArtifactDigester,
  checkPut,
  checkPutStreamOptions,
  digestHex,
  type ArtifactInfo,
  type ArtifactStore,
  type OpenedArtifact,
  type PutResult,
  type PutStreamOptions,
} from './artifact-store.port.js';

export class InMemoryArtifactStore implements ArtifactStore {
  private readonly artifacts = new Map<string, Buffer>();

  async put(bytes: Uint8Array, options: { expectedSha256?: string } = {}): Promise<PutResult> {
    // A private copy: the caller may reuse its buffer.
    return this.keep(checkPut(bytes, options), bytes.length, () => Buffer.from(bytes));
  }

  async putStream(source: AsyncIterable<Uint8Array>, options: PutStreamOptions = {}): Promise<PutResult> {
    checkPutStreamOptions(options);
    const digester = new ArtifactDigester(options);
    const chunks: Buffer[] = [];
    for await (const chunk of source) {
      digester.add(chunk);
      chunks.push(Buffer.from(chunk));
    }
    return this.keep(digester.finish(), digester.size, () => Buffer.concat(chunks));
  }

  /** Stores `bytes()` under `sha256` unless it is stored already (one digest, one content: nothing to replace). */
  private keep(sha256: string, sizeBytes: number, bytes: () => Buffer): PutResult {
    const existing = this.artifacts.get(sha256);
    if (existing !== undefined) return { sha256, sizeBytes: existing.length, created: false };
    this.artifacts.set(sha256, bytes());
    return { sha256, sizeBytes, created: true };
  }

  async get(sha256: string): Promise<Uint8Array | null> {
    digestHex(sha256);
    const bytes = this.artifacts.get(sha256);
    return bytes === undefined ? null : Buffer.from(bytes);
  }

  async stat(sha256: string): Promise<ArtifactInfo | null> {
    digestHex(sha256);
    const bytes = this.artifacts.get(sha256);
    return bytes === undefined ? null : { sha256, sizeBytes: bytes.length };
  }

  async openRead(sha256: string): Promise<OpenedArtifact | null> {
    digestHex(sha256);
    const bytes = this.artifacts.get(sha256);
    return bytes === undefined ? null : { sha256, sizeBytes: bytes.length, stream: Readable.from([Buffer.from(bytes)]) };
  }
}
