import { readdirSync, readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedEntry, UnsignedEntry } from './entry.js';
import type { EntrySigner } from './entry-signer.port.js';
import { signEntryAsync } from './entry-signature.js';
import {
  generateSigningKey,
  readPrivateKeyFile,
  writePrivateKeyFile,
  type Ed25519PublicJwk,
  type SigningKey,
} from './signing-key.js';

/** One public key as served in `/.well-known/jwks.json`, with its validity as recorded in the log. */
export interface JwksKey extends Ed25519PublicJwk {
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
  /** RFC 3339: when its `SigningKeyActivated` entry was recorded. */
  validFrom?: string;
  /** RFC 3339: when its `SigningKeyRevoked` entry was recorded; entries it signs afterwards are invalid. */
  revokedAt?: string;
}

export interface Jwks {
  keys: JwksKey[];
}

/**
 * The log's signing keys. Private keys live in `<dir>/<kid>.jwk` (mode 0600); `<dir>/current` names the key
 * that signs now. Validity (activation, revocation) is not kept here but in the log itself (key-<kid> streams),
 * so that an auditor reads it from the same signed record.
 */
export class KeyRing implements EntrySigner {
  private readonly keys = new Map<string, SigningKey>();
  private currentKey: SigningKey;
  private readonly revoked = new Set<string>();

  private constructor(
    private readonly dir: string | null,
    keys: SigningKey[],
    current: SigningKey,
  ) {
    for (const key of keys) this.keys.set(key.kid, key);
    this.keys.set(current.kid, current);
    this.currentKey = current;
  }

  /** Loads the key folder, generating a first key (0600) when it holds none. */
  static openFolder(dir: string): { ring: KeyRing; created: boolean } {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keys = readdirSync(dir)
      .filter((name) => name.endsWith('.jwk'))
      .map((name) => readPrivateKeyFile(join(dir, name)));
    const currentFile = join(dir, 'current');
    const currentKid = existsSync(currentFile) ? readFileSync(currentFile, 'utf8').trim() : undefined;
    let current = keys.find((key) => key.kid === currentKid);
    let created = false;
    if (!current) {
      if (currentKid !== undefined) throw new Error(`signing key ${currentKid} named in ${currentFile} is missing`);
      current = generateSigningKey();
      writePrivateKeyFile(join(dir, `key-${current.kid}.jwk`), current);
      writeFileSync(currentFile, `${current.kid}\n`, { mode: 0o600 });
      created = true;
    }
    return { ring: new KeyRing(dir, keys, current), created };
  }

  /** A ring held only in memory (tests, benchmarks). */
  static inMemory(current: SigningKey = generateSigningKey()): KeyRing {
    return new KeyRing(null, [], current);
  }

  currentKid(): string {
    return this.currentKey.kid;
  }

  current(): SigningKey {
    return this.currentKey;
  }

  get(kid: string): SigningKey | undefined {
    return this.keys.get(kid);
  }

  all(): SigningKey[] {
    return [...this.keys.values()];
  }

  sign(entry: UnsignedEntry, payload?: string): Promise<SignedEntry> {
    if (entry.kid !== this.currentKey.kid)
      return Promise.reject(new Error(`entry kid ${entry.kid} is not the current signing key ${this.currentKey.kid}`));
    if (this.revoked.has(entry.kid)) return Promise.reject(new Error(`signing key ${entry.kid} is revoked`));
    return signEntryAsync(entry, this.currentKey, payload);
  }

  /** Generates a new key (kept on disk when the ring has a folder) without making it current yet. */
  generate(): SigningKey {
    const key = generateSigningKey();
    if (this.dir) writePrivateKeyFile(join(this.dir, `key-${key.kid}.jwk`), key);
    this.keys.set(key.kid, key);
    return key;
  }

  /** Makes a key of the ring the one that signs from now on. */
  makeCurrent(kid: string): void {
    const key = this.keys.get(kid);
    if (!key) throw new Error(`unknown signing key ${kid}`);
    if (this.revoked.has(kid)) throw new Error(`signing key ${kid} is revoked`);
    this.currentKey = key;
    if (this.dir) writeFileSync(join(this.dir, 'current'), `${kid}\n`, { mode: 0o600 });
  }

  /** Marks a key revoked (after its `SigningKeyRevoked` entry is in the log); the current key cannot be. */
  markRevoked(kid: string): void {
    if (kid === this.currentKey.kid) throw new Error('the current signing key cannot be revoked; rotate first');
    this.revoked.add(kid);
  }

  isRevoked(kid: string): boolean {
    return this.revoked.has(kid);
  }
}
