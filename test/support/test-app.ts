import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import { createApp, openLedgerAndVerifier } from '../../src/app/create-app.js';
import { mintDevelopmentToken } from '../../src/auth/token-issuer.js';
import type { TokenRole } from '../../src/auth/principal.js';
import { loadConfig, type AppConfig } from '../../src/common/config.js';
import { dataPaths, type EmbeddedLedger } from '../../src/ledger/embedded-ledger.js';
import { loadOrCreateKeyFile } from '../../src/ledger/signing-key.js';

export interface TestApp {
  app: NestExpressApplication;
  /** The HTTP server, for supertest. */
  server: Server;
  ledger: EmbeddedLedger;
  config: AppConfig;
  dataDir: string;
  /** A development bearer token for this app. */
  token(role: TokenRole, tenant: string, sub?: string): Promise<string>;
  close(): Promise<void>;
}

/** The real application on a fresh temporary data folder (SQLite store, generated keys), not listening. */
export async function createTestApp(env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ida-ledger-test-'));
  const config = loadConfig({ LEDGER_DATA_DIR: dataDir, ...env });
  const { ledger, tokenVerifier } = await openLedgerAndVerifier(config);
  const app = await createApp({ config, ledger, tokenVerifier, logger: false });
  const tokenKey = loadOrCreateKeyFile(dataPaths(dataDir).tokenKey).key;
  return {
    app,
    server: app.getHttpServer() as Server,
    ledger,
    config,
    dataDir,
    token: (role, tenant, sub = `${role}-1`) =>
      mintDevelopmentToken({ privateKey: tokenKey.privateKey, kid: tokenKey.kid, sub, role, tenant }),
    close: async () => {
      await app.close();
      await ledger.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
