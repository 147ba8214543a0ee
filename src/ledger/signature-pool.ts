import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { verify, type KeyObject } from 'node:crypto';

/**
 * Ed25519 verification of many entries on worker threads, one per core, in batches. Why not node:crypto's
 * callback form: each call is a separate job on libuv's pool, and dispatching it costs the main thread about as
 * much as a tenth of the verification itself; here the main thread only appends bytes to a batch, and a whole
 * batch crosses to a worker as one transferred buffer.
 *
 * The worker is a few lines of plain JavaScript evaluated from a string, so it runs the same from the
 * TypeScript sources (tests) and from dist/ (CLI).
 */

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = workerData.keys.map((x) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
parentPort.on('message', ({ id, inputs, ends, signatures, keyIndexes, positions }) => {
  const bytes = Buffer.from(inputs);
  const sigs = Buffer.from(signatures);
  const failed = [];
  let start = 0;
  for (let i = 0; i < positions.length; i++) {
    const end = ends[i];
    if (!verify(null, bytes.subarray(start, end), keys[keyIndexes[i]], sigs.subarray(i * 64, i * 64 + 64))) failed.push(positions[i]);
    start = end;
  }
  parentPort.postMessage({ id, failed });
});
`;

export interface PublicKeyEntry {
  /** Base64url raw Ed25519 public key (the JWK `x`): what a worker builds its key from. */
  x: string;
  /** The same key, for batches checked on this thread. */
  publicKey: KeyObject;
}

interface Pending {
  /** The signing inputs, back to back, written straight from their strings (one copy per entry). */
  inputs: Buffer;
  length: number;
  ends: number[];
  signatures: Buffer;
  keyIndexes: number[];
  positions: number[];
}

const emptyBatch = (batchSize: number): Pending => ({
  inputs: Buffer.allocUnsafeSlow(batchSize * 1024),
  length: 0,
  ends: [],
  signatures: Buffer.allocUnsafeSlow(batchSize * 64),
  keyIndexes: [],
  positions: [],
});

export class SignaturePool {
  /** Started with the first full batch: a short log (most tests, small exports) never pays for threads. */
  private workers: Worker[] = [];
  private load: number[] = [];
  private batch: Pending;
  private nextId = 0;
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  private workerError: Error | null = null;
  /** Smallest position whose signature failed so far. */
  firstFailure: number | null = null;

  constructor(
    private readonly keys: PublicKeyEntry[],
    private readonly batchSize = 256,
    private readonly workerCount = Math.max(1, availableParallelism()),
    /** Batches in flight per worker before `room()` makes the reader wait. */
    private readonly depth = 4,
  ) {
    this.batch = emptyBatch(batchSize);
  }

  private startWorkers(): void {
    this.workers = Array.from({ length: this.workerCount }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { keys: this.keys.map((key) => key.x) } });
      worker.on('message', (message: { id: number; failed: number[] }) => this.onDone(worker, message));
      worker.on('error', (error) => {
        this.workerError = error;
        this.wake();
      });
      return worker;
    });
    this.load = this.workers.map(() => 0);
  }

  /**
   * Queues one check of the JWS signing input `<protectedHeader>.<payload>` (UTF-8); `keyIndex` indexes the
   * constructor's keys.
   */
  add(protectedHeader: string, payload: string, signature: Buffer, keyIndex: number, position: number): void {
    const batch = this.batch;
    const needed = protectedHeader.length + 1 + Buffer.byteLength(payload);
    if (batch.length + needed > batch.inputs.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(batch.inputs.length * 2, batch.length + needed));
      batch.inputs.copy(grown, 0, 0, batch.length);
      batch.inputs = grown;
    }
    batch.length += batch.inputs.write(protectedHeader, batch.length, 'latin1');
    batch.inputs[batch.length++] = 0x2e; // '.'
    batch.length += batch.inputs.write(payload, batch.length, 'utf8');
    batch.ends.push(batch.length);
    signature.copy(batch.signatures, batch.positions.length * 64);
    batch.keyIndexes.push(keyIndex);
    batch.positions.push(position);
    if (batch.positions.length >= this.batchSize) this.dispatch();
  }

  /** Undefined while workers have room; else a promise that resolves when one batch came back. */
  room(): Promise<void> | undefined {
    if (this.inFlight < this.workerCount * this.depth) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Checks the partial batch (here, when no worker was needed so far) and waits for every batch in flight. */
  async settled(): Promise<void> {
    if (this.workers.length === 0) this.verifyInline();
    else this.dispatch();
    while (this.inFlight > 0) {
      if (this.workerError) throw this.workerError;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.workerError) throw this.workerError;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    const batch = this.batch;
    if (batch.positions.length === 0) return;
    if (this.workers.length === 0) this.startWorkers();
    this.batch = emptyBatch(this.batchSize);
    const inputs = batch.inputs;
    const ends = Uint32Array.from(batch.ends);
    const signatures = batch.signatures.subarray(0, batch.positions.length * 64);
    // The least loaded worker takes it; the buffers are transferred, not copied.
    let chosen = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i]! < this.load[chosen]!) chosen = i;
    this.load[chosen]!++;
    this.inFlight++;
    // allocUnsafeSlow buffers own their ArrayBuffer, so they can be transferred.
    const inputBytes = inputs.buffer as ArrayBuffer;
    const signatureBytes = signatures.buffer as ArrayBuffer;
    this.workers[chosen]!.postMessage(
      { id: this.nextId++, inputs: inputBytes, ends, signatures: signatureBytes, keyIndexes: batch.keyIndexes, positions: batch.positions },
      [inputBytes, signatureBytes, ends.buffer],
    );
  }

  private verifyInline(): void {
    const batch = this.batch;
    if (batch.positions.length === 0) return;
    this.batch = emptyBatch(this.batchSize);
    let start = 0;
    batch.positions.forEach((position, i) => {
      const end = batch.ends[i]!;
      const signature = batch.signatures.subarray(i * 64, i * 64 + 64);
      if (!verify(null, batch.inputs.subarray(start, end), this.keys[batch.keyIndexes[i]!]!.publicKey, signature))
        if (this.firstFailure === null || position < this.firstFailure) this.firstFailure = position;
      start = end;
    });
  }

  private onDone(worker: Worker, message: { id: number; failed: number[] }): void {
    this.load[this.workers.indexOf(worker)]!--;
    this.inFlight--;
    for (const position of message.failed) if (this.firstFailure === null || position < this.firstFailure) this.firstFailure = position;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
