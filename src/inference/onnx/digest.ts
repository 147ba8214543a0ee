import { createHash } from 'node:crypto';

/** `sha256:<64 lowercase hex>` of `bytes` (a model artifact) or of a string's UTF-8 bytes. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
