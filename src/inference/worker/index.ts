export * from './grant.js';
export * from './ledger-client.js';
export * from './result-signature.js';
export * from './worker-token.js';
export * from './worker.js';
export * from './worker-cli.js';
