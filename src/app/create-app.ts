import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { LoggerService, LogLevel } from '@nestjs/common';
import { tokenVerifierFromConfig } from '../auth/token-verifier.factory.js';
import type { TokenVerifier } from '../auth/token-verifier.port.js';
import type { AppConfig } from '../common/config.js';
import { configureHttp } from '../common/http/configure-http.js';
import { FilesystemArtifactStore } from '../distillation/artifacts/filesystem-artifact-store.js';
import { EmbeddedLedger, dataPaths } from '../ledger/embedded-ledger.js';
import { loadOrCreateKeyFile } from '../ledger/signing-key.js';
import { loadPolicySetFromDir } from '../policy/policy-set.js';
import { AppModule } from './app.module.js';
import { createMetrics } from './metrics.js';

export interface CreateAppOptions {
  config: AppConfig;
  ledger: EmbeddedLedger;
  tokenVerifier: TokenVerifier;
  logger?: LoggerService | LogLevel[] | false;
}

/** Builds the Nest application around an open ledger (tests call this with a temporary data folder). */
export async function createApp(options: CreateAppOptions): Promise<NestExpressApplication> {
  // First: an invalid policy set stops the service before anything starts (the error names the policy).
  // PolicyModule publishes it on `policy-system` during `app.init()`, before the service listens.
  const policySet = loadPolicySetFromDir(options.config.policyDir);
  const metrics = createMetrics(options.ledger);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({
      ledger: options.ledger,
      tokenVerifier: options.tokenVerifier,
      metrics: metrics.registry,
      artifacts: {
        store: new FilesystemArtifactStore(dataPaths(options.config.dataDir).artifacts),
        maxBytes: options.config.artifactMaxBytes,
      },
      policySet,
      inference: { leaseMs: options.config.inferenceLeaseMs },
    }),
    { bodyParser: false, logger: options.logger ?? ['log', 'warn', 'error'] },
  );
  app.use(metrics.middleware);
  configureHttp(app, { bodyLimit: options.config.bodyLimit });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('ida-ledger')
      .setDescription(
        'Signed, tamper-evident audit ledger for Iterated Distillation and Amplification pipelines. ' +
          'Errors are RFC 9457 application/problem+json with a stable `code`. Mutations accept `Idempotency-Key` and `If-Match`.',
      )
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  await app.init();
  return app;
}

/** Opens the embedded ledger in `config.dataDir`, with the development token key when auth is local. */
export async function openLedgerAndVerifier(config: AppConfig): Promise<{ ledger: EmbeddedLedger; tokenVerifier: TokenVerifier }> {
  const ledger = await EmbeddedLedger.open({
    dataDir: config.dataDir,
    origin: config.origin,
    checkpointEveryEntries: config.checkpointEveryEntries,
    checkpointEveryMs: config.checkpointEveryMs,
  });
  try {
    const local = config.auth.mode === 'local' ? loadOrCreateKeyFile(dataPaths(config.dataDir).tokenKey).key : undefined;
    const tokenVerifier = tokenVerifierFromConfig(config.auth, local ? { publicKey: local.publicKey, kid: local.kid } : {});
    return { ledger, tokenVerifier };
  } catch (error) {
    await ledger.close();
    throw error;
  }
}

/** `ida-ledger serve` / `npm start`: open, listen, and close the ledger cleanly on SIGINT/SIGTERM. */
export async function startService(config: AppConfig): Promise<NestExpressApplication> {
  const { ledger, tokenVerifier } = await openLedgerAndVerifier(config);
  const app = await createApp({ config, ledger, tokenVerifier }).catch(async (error: unknown) => {
    // E.g. an invalid policy set: leave the data folder closed cleanly, then report.
    await ledger.close();
    throw error;
  });
  const closeLedger = async () => {
    await app.close();
    await ledger.close();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void closeLedger().finally(() => process.exit(0));
    });
  }
  await app.listen(config.port, config.host);
  return app;
}
