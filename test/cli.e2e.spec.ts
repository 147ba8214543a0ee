/**
 * The `ida-ledger` command line besides `verify` (see verifier-tampering.e2e.spec.ts): help, development tokens,
 * export, the log's public keys, and the exit codes (0 ok, 1 failed, 2 bad usage) — in process through `main`,
 * and once through the built binary.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { TOKEN_ROLES } from '../src/auth/principal.js';
import { DEV_AUDIENCE, DEV_ISSUER } from '../src/auth/token-issuer.js';
import { buildProgram } from '../src/cli/program.js';
import { dataPaths } from '../src/ledger/embedded-ledger.js';
import type { Jwks } from '../src/ledger/key-ring.js';
import { exportPaths } from '../src/ledger/ledger-export.js';
import { readPrivateKeyFile } from '../src/ledger/signing-key.js';
import { buildFixture, parseFailure, removeFixture, runCli, tamperable, type LedgerFixture } from './support/ledger-fixture.js';

let fixture: LedgerFixture;

beforeAll(async () => {
  fixture = await buildFixture();
}, 30_000);

afterAll(() => removeFixture(fixture));

const scratch = (name: string) => mkdtempSync(join(fixture.root, `${name}-`));

/** The names listed under "Commands:" in a commander help text. */
function listedCommands(help: string): string[] {
  const section = help.split(/^Commands:$/mu)[1] ?? '';
  return section
    .split('\n')
    .slice(1)
    .filter((line) => /^ {2}\S/u.test(line))
    .map((line) => line.trim().split(/\s+/u)[0]!);
}

describe('ida-ledger --help', () => {
  it('exits 0 and lists exactly the commands that exist: serve, token, export, verify, keys', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    const listed = listedCommands(result.stdout);
    expect(listed).toEqual(expect.arrayContaining(['serve', 'token', 'export', 'verify', 'keys']));
    // Only commands the program really has (e.g. `worker` is listed if, and only if, it exists).
    const existing = buildProgram().commands.map((command) => command.name());
    expect(listed.filter((name) => name !== 'help').sort()).toEqual([...existing].sort());
  });

  it('documents the options of verify and of keys jwks', async () => {
    const verify = await runCli(['verify', '--help']);
    expect(verify.code).toBe(0);
    for (const option of ['--export', '--data-dir', '--jwks', '--checkpoint', '--json']) expect(verify.stdout).toContain(option);
    const keys = await runCli(['keys', '--help']);
    expect(keys.code).toBe(0);
    expect(listedCommands(keys.stdout)).toContain('jwks');
  });

  it('--version exits 0', async () => {
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\s*$/u) });
  });
});

describe('ida-ledger token', () => {
  it.each(TOKEN_ROLES.map((role) => [role]))('--role %s prints a JWT with those claims, signed by the data folder token key', async (role) => {
    const dataDir = scratch('token');
    const result = await runCli(['token', '--role', role, '--tenant', 'acme', '--sub', 'orchestrator-1', '--data-dir', dataDir]);
    expect(result.code).toBe(0);
    const token = result.stdout.trim();
    expect(result.stdout).toBe(`${token}\n`);
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/u);
    expect(decodeJwt(token)).toMatchObject({ sub: 'orchestrator-1', role, tenant: 'acme', iss: DEV_ISSUER, aud: DEV_AUDIENCE });

    const tokenKey = readPrivateKeyFile(dataPaths(dataDir).tokenKey);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: tokenKey.kid, typ: 'JWT' });
    const { payload } = await jwtVerify(token, tokenKey.publicKey, { issuer: DEV_ISSUER, audience: DEV_AUDIENCE });
    expect(payload.exp! - payload.iat!).toBe(12 * 3600);
  });

  it('keeps one token key per data folder and honours --ttl', async () => {
    const dataDir = scratch('token');
    const first = await runCli(['token', '--role', 'auditor', '--tenant', 'globex', '--sub', 'a-1', '--data-dir', dataDir]);
    const second = await runCli(['token', '--role', 'overseer', '--tenant', 'globex', '--sub', 'o-1', '--data-dir', dataDir, '--ttl', '60']);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(decodeProtectedHeader(second.stdout.trim()).kid).toBe(decodeProtectedHeader(first.stdout.trim()).kid);
    const claims = decodeJwt(second.stdout.trim());
    expect(claims.exp! - claims.iat!).toBe(60);
  });

  it.each([
    ['an unknown role', ['--role', 'superuser', '--tenant', 'acme', '--sub', 's']],
    ['the system role', ['--role', 'system', '--tenant', 'acme', '--sub', 's']],
    ['no role', ['--tenant', 'acme', '--sub', 's']],
    ['no tenant', ['--role', 'pipeline', '--sub', 's']],
    ['no subject', ['--role', 'pipeline', '--tenant', 'acme']],
    ['the reserved system tenant', ['--role', 'admin', '--tenant', 'system', '--sub', 's']],
    ['a zero --ttl', ['--role', 'pipeline', '--tenant', 'acme', '--sub', 's', '--ttl', '0']],
    ['an unknown option', ['--role', 'pipeline', '--tenant', 'acme', '--sub', 's', '--scope', 'all']],
  ])('exits 2 on %s and prints no token', async (_name, args) => {
    const result = await runCli(['token', ...args, '--data-dir', scratch('token')]);
    expect(result.code).toBe(2);
    expect(result.stdout).not.toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/mu);
  });
});

describe('ida-ledger export and keys jwks', () => {
  it('export writes the four files and says how much it exported', async () => {
    const out = join(scratch('export'), 'out');
    const result = await runCli(['export', '--data-dir', fixture.dataDir, '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`exported ${fixture.entries.length} entries and ${fixture.checkpoints.length} checkpoints`);
    for (const path of Object.values(exportPaths(out))) expect(existsSync(path)).toBe(true);
    expect(readFileSync(exportPaths(out).entries, 'utf8')).toBe(readFileSync(exportPaths(fixture.exportDir).entries, 'utf8'));
  });

  it('keys jwks prints the public keys recorded in the log, with their validity, and nothing private', async () => {
    const result = await runCli(['keys', 'jwks', '--data-dir', fixture.dataDir]);
    expect(result.code).toBe(0);
    const jwks = JSON.parse(result.stdout) as Jwks;
    expect(jwks.keys.map((key) => key.kid).sort()).toEqual([fixture.oldKid, fixture.newKid].sort());
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', validFrom: expect.any(String) });
      expect(key).not.toHaveProperty('d');
    }
    const revoked = fixture.entries[fixture.revokedAtPosition]!.entry.meta.recordedAt;
    expect(jwks.keys.find((key) => key.kid === fixture.oldKid)!.revokedAt).toBe(revoked);
    expect(jwks.keys.find((key) => key.kid === fixture.newKid)!.revokedAt).toBeUndefined();
    expect(jwks).toEqual(JSON.parse(readFileSync(exportPaths(fixture.exportDir).jwks, 'utf8')));
  });

  it('keys jwks --out writes the same JWKS to a file', async () => {
    const file = join(scratch('jwks'), 'jwks.json');
    const printed = await runCli(['keys', 'jwks', '--data-dir', fixture.dataDir]);
    const written = await runCli(['keys', 'jwks', '--data-dir', fixture.dataDir, '--out', file]);
    expect(written).toMatchObject({ code: 0, stdout: '' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse(printed.stdout));
  });

  it.each([
    ['export from a folder without a ledger', () => ['export', '--data-dir', join(fixture.root, 'nothing-here'), '--out', join(fixture.root, 'x')]],
    ['export without --out', () => ['export', '--data-dir', fixture.dataDir]],
    ['keys jwks from a folder without a ledger', () => ['keys', 'jwks', '--data-dir', join(fixture.root, 'nothing-here')]],
    ['keys without a subcommand', () => ['keys', 'frobnicate']],
    ['an unknown command', () => ['frobnicate']],
  ])('exits 2 on %s', async (_name, args) => {
    expect((await runCli(args())).code).toBe(2);
  });
});

describe('exit codes in one process', () => {
  it('a failed verify does not leak its exit code into the next command', async () => {
    const copy = tamperable(fixture, 'export');
    copy.remove(5);
    const failed = await runCli(['verify', ...copy.args]);
    expect(failed.code).toBe(1);
    expect(parseFailure(failed.stdout)?.position).toBe(5);
    expect((await runCli(['keys', 'jwks', '--data-dir', fixture.dataDir])).code).toBe(0);
    expect((await runCli(['verify', '--export', fixture.exportDir])).code).toBe(0);
  });
});

describe('the real binary: node dist/src/cli/ida-ledger.js', () => {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  const bin = join(repoRoot, 'dist', 'src', 'cli', 'ida-ledger.js');
  const { NODE_OPTIONS: _nodeOptions, ...env } = process.env;
  const spawn = (args: string[]) => {
    const child = spawnSync(process.execPath, [bin, ...args], { cwd: repoRoot, env, encoding: 'utf8', timeout: 20_000 });
    return { code: child.status, stdout: child.stdout, stderr: child.stderr };
  };

  beforeAll(() => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
  });

  it('--help exits 0 and lists the commands', () => {
    const result = spawn(['--help']);
    expect(result.code).toBe(0);
    expect(listedCommands(result.stdout)).toEqual(expect.arrayContaining(['serve', 'token', 'export', 'verify', 'keys']));
  });

  it('token prints a JWT with the requested claims; a bad role exits 2', () => {
    const dataDir = scratch('bin-token');
    const ok = spawn(['token', '--role', 'pipeline', '--tenant', 'acme', '--sub', 'orchestrator-1', '--data-dir', dataDir]);
    expect(ok.code).toBe(0);
    expect(decodeJwt(ok.stdout.trim())).toMatchObject({ sub: 'orchestrator-1', role: 'pipeline', tenant: 'acme' });
    const bad = spawn(['token', '--role', 'root', '--tenant', 'acme', '--sub', 'orchestrator-1', '--data-dir', dataDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/root/u);
  });
});
