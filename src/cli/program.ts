import { checkDataset } from './dataset-check.js';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { TOKEN_ROLES, type TokenRole } from '../auth/principal.js';
import { mintDevelopmentToken } from '../auth/token-issuer.js';
import { loadConfig } from '../common/config.js';
import { dataPaths } from '../ledger/embedded-ledger.js';
import { loadOrCreateKeyFile } from '../ledger/signing-key.js';
import { exportLedger, UsageError, verifyOffline } from './offline-ledger.js';

/**
 * `ida-ledger`: the one command line of the project. Exit codes: 0 success, 1 verification failed (or the
 * command failed), 2 bad usage.
 */

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * The exit code a command decided (verify: 1 when verification failed), per program. Not `process.exitCode`:
 * that outlives one `main` call, so a failed verify would turn every later command of the process into exit 1.
 */
const decidedExitCodes = new WeakMap<Command, number>();

export function buildProgram(): Command {
  const program = new Command('ida-ledger')
    .description('Signed, tamper-evident audit ledger for Iterated Distillation and Amplification pipelines')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('serve')
    .description('run the HTTP service on the embedded SQLite store (env: PORT, LEDGER_DATA_DIR, ...)')
    .option('--port <n>', 'port (default $PORT or 3000)')
    .option('--data-dir <dir>', 'data folder (default $LEDGER_DATA_DIR or ./data)')
    .action(async (options: { port?: string; dataDir?: string }) => {
      const env = { ...process.env };
      if (options.port) env.PORT = options.port;
      if (options.dataDir) env.LEDGER_DATA_DIR = options.dataDir;
      const config = loadConfig(env);
      const { startService } = await import('../app/create-app.js');
      await startService(config);
      console.error(`ida-ledger listening on http://localhost:${config.port} (data: ${config.dataDir})`);
    });

  program
    .command('token')
    .description('print a development bearer JWT signed with the data folder\'s token key')
    .addOption(new Option('--role <role>', 'role').choices([...TOKEN_ROLES]).makeOptionMandatory())
    .requiredOption('--tenant <tenant>', 'tenant the token is scoped to')
    .requiredOption('--sub <subject>', 'subject (user or service account)')
    .option('--ttl <seconds>', 'lifetime in seconds', positiveInt, 12 * 3600)
    .option('--data-dir <dir>', 'data folder (default $LEDGER_DATA_DIR or ./data)')
    .action(async (options: { role: TokenRole; tenant: string; sub: string; ttl: number; dataDir?: string }) => {
      const config = loadConfig(options.dataDir ? { ...process.env, LEDGER_DATA_DIR: options.dataDir } : process.env);
      const { key } = loadOrCreateKeyFile(dataPaths(config.dataDir).tokenKey);
      // What mint refuses (the reserved `system` tenant, a blank subject) is a bad argument: exit 2.
      const token = await mintDevelopmentToken({
        privateKey: key.privateKey,
        kid: key.kid,
        sub: options.sub,
        role: options.role,
        tenant: options.tenant,
        ttlSeconds: options.ttl,
        issuer: config.auth.issuer,
        audience: config.auth.audience,
      }).catch((error: unknown) => {
        throw error instanceof TypeError || error instanceof RangeError ? new UsageError(error.message) : error;
      });
      process.stdout.write(`${token}\n`);
    });

  program
    .command('export')
    .description('export the log: entries.ndjson, checkpoints.json, jwks.json, manifest.json')
    .requiredOption('--data-dir <dir>', 'data folder holding ledger.sqlite')
    .requiredOption('--out <dir>', 'folder to write the export to')
    .action(async (options: { dataDir: string; out: string }) => {
      const { entries, checkpoints } = await exportLedger(options.dataDir, options.out);
      console.log(`exported ${entries} entries and ${checkpoints} checkpoints to ${options.out}`);
    });

  program
    .command('verify')
    .description('verify a ledger offline: signatures, stream chains, keys, Merkle root against every checkpoint')
    .option('--export <dir>', 'an export folder (from `ida-ledger export`)')
    .option('--data-dir <dir>', 'a data folder (reads ledger.sqlite read-only)')
    .option('--jwks <file>', 'the JWKS you trust (default: the export\'s jwks.json / the data folder\'s keys)')
    .option('--checkpoint <file>', 'a checkpoint note you hold (repeatable): a shorter log is truncated', collect, [])
    .option('--json', 'print the report as JSON')
    .action(async (options: { export?: string; dataDir?: string; jwks?: string; checkpoint: string[]; json?: boolean }) => {
      if (!!options.export === !!options.dataDir) throw new UsageError('give exactly one of --export DIR or --data-dir DIR');
      const source: Parameters<typeof verifyOffline>[0] = { checkpointFiles: options.checkpoint };
      if (options.export) source.exportDir = options.export;
      if (options.dataDir) source.dataDir = options.dataDir;
      if (options.jwks) source.jwksFile = options.jwks;
      const report = await verifyOffline(source);
      if (options.json) console.log(JSON.stringify(report));
      else if (report.ok)
        console.log(`OK: ${report.entries} entries verified; ${report.checkpointsVerified} checkpoints match; root ${report.rootHash}`);
      else console.log(`FAIL at position ${report.failure!.position}: ${report.failure!.reason}`);
      decidedExitCodes.set(program, report.ok ? EXIT_OK : EXIT_FAILED);
    });

  program
    .command('dataset')
    .description("prove which transcript entries trained a distillation run: recompute its dataset root offline")
    .requiredOption('--run <runId>', 'the distillation run')
    .option('--export <dir>', 'an export folder (from `ida-ledger export`)')
    .option('--data-dir <dir>', 'a data folder (reads ledger.sqlite read-only)')
    .option('--json', 'print the report as JSON')
    .action(async (options: { run: string; export?: string; dataDir?: string; json?: boolean }) => {
      if (!!options.export === !!options.dataDir) throw new UsageError('give exactly one of --export DIR or --data-dir DIR');
      const source = options.export ? { exportDir: options.export } : { dataDir: options.dataDir! };
      const report = await checkDataset(source, options.run);
      if (options.json) console.log(JSON.stringify(report));
      else if (report.ok)
        console.log(`OK: run ${report.runId} trained on ${report.leafCount} entries of ${report.queryIds!.length} queries; root ${report.transcriptRoot}`);
      else console.log(`FAIL: run ${report.runId}: ${report.reason}`);
      decidedExitCodes.set(program, report.ok ? EXIT_OK : EXIT_FAILED);
    });

  program
    .command('rebuild')
    .description("fold fresh projections from a data folder (read-only) and print each one's digest")
    .requiredOption('--data-dir <dir>', 'data folder holding ledger.sqlite')
    .option('--json', 'print the result as JSON')
    .action(async (options: { dataDir: string; json?: boolean }) => {
      const { runRebuild } = await import('../projections/rebuild.cli.js');
      await runRebuild(options);
    });

  program
    .command('worker')
    .description('run an inference worker: lease jobs, verify grants, run ONNX models, post signed results (docs/policy-gate.md)')
    .requiredOption('--url <url>', 'the ledger, e.g. http://localhost:3000')
    .requiredOption('--key <file>', 'the worker key (Ed25519 JWK, created with mode 0600 when missing)')
    .option('--worker-id <id>', 'worker id as registered (default: worker-<12 characters of the key thumbprint>)')
    .option('--once', 'one lease request, then exit (1 when it failed)')
    .action(async (options: { url: string; key: string; workerId?: string; once?: boolean }) => {
      const { runWorkerCommand } = await import('../inference/worker/worker-cli.js');
      const code = await runWorkerCommand(options, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) }).catch(
        (error: unknown) => {
          throw error instanceof TypeError ? new UsageError(error.message) : error;
        },
      );
      decidedExitCodes.set(program, code);
    });

  const keys = program.command('keys').description('inspect the log signing keys');
  keys
    .command('jwks')
    .description('write the public JWKS of a data folder\'s log keys (as recorded in its log)')
    .requiredOption('--data-dir <dir>', 'data folder')
    .option('--out <file>', 'file to write (default: stdout)')
    .action(async (options: { dataDir: string; out?: string }) => {
      const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const scratch = mkdtempSync(join(tmpdir(), 'ida-ledger-jwks-'));
      try {
        await exportLedger(options.dataDir, scratch);
        const jwks = readFileSync(join(scratch, 'jwks.json'), 'utf8');
        if (options.out) writeFileSync(options.out, jwks);
        else process.stdout.write(jwks);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return decidedExitCodes.get(program) ?? EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with code 0; any other commander error is bad usage.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      console.error(`ida-ledger: ${error.message}`);
      return EXIT_USAGE;
    }
    console.error(`ida-ledger: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_FAILED;
  }
}
