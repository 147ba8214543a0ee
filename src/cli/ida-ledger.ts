#!/usr/bin/env node
import 'reflect-metadata';
import { main } from './program.js';

/** The `ida-ledger` binary (package.json `bin`). Exit codes: 0 ok, 1 failed / verification failed, 2 bad usage. */
const exitCode = await main(process.argv);
// `serve` keeps running after main resolves; every other command ends with its exit code.
process.exitCode = exitCode;
