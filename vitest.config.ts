import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration tests start brokers, ptys and child processes; two cores, so keep it modest.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/resilience/**', 'test/install/**'] },
      },
      {
        // The resilience suite (RESILIENCE.md) runs after the rest, one file at a time: its
        // faults and load are process-wide (tmpfs mounts, a 500 reads/s load, a kill loop), and
        // its figures mean something only when it is not sharing the box with itself.
        extends: true,
        test: { name: 'resilience', include: ['test/resilience/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
      {
        // The README's site install in a scratch copy (npm ci builds native modules): last, alone.
        extends: true,
        test: { name: 'install', include: ['test/install/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
