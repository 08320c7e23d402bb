import { join } from 'node:path';

/**
 * The built CLI, from a helper run as TypeScript by the test runner (test/helpers/) or compiled
 * into dist/test/helpers/ for a bench script: both reach the same dist/src/cli.js.
 */
export const CLI = import.meta.dirname.includes('/dist/') ? join(import.meta.dirname, '../../src/cli.js') : join(import.meta.dirname, '../../dist/src/cli.js');
