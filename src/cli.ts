#!/usr/bin/env node
import { checkNodeVersion } from './node-version.js';

/*
 * The `lintel` command. Node's version is checked before any other module loads: the CLI
 * imports the native modules (better-sqlite3, serialport, node-hid) on its first import, and
 * on an unsupported Node those fail with an ABI error that does not say what to do.
 * Exit code 4 (README "CLI reference / exit codes").
 */
const check = checkNodeVersion(process.version);
if (!check.ok) {
  console.error(check.message);
  process.exit(4);
}
if (check.warning !== undefined) console.error(check.warning);

const { runCli } = await import('./cli/main.js');
runCli(process.argv.slice(2));
