import { appendFileSync } from 'node:fs';

/*
 * Two sizes of the same resilience suite. `short` runs inside `npm test` (CI) and keeps the
 * whole suite within its budget on a 2-core box; `long` (LINTEL_RESILIENCE=long, see
 * RESILIENCE.md) runs the counts and durations the issue states for a release.
 */

export type ProfileName = 'short' | 'long';

export const PROFILE: ProfileName = process.env.LINTEL_RESILIENCE === 'long' ? 'long' : 'short';

interface Profile {
  crashKills: number;
  /** How long load runs between two kills (random in this range, ms). */
  crashUptimeMs: [number, number];
  reloads: number;
  loadSeconds: number;
  loadReadsPerSec: number;
  loadCallbacksPerSec: number;
  loadReaders: number;
  floodSeconds: number;
  floodLinesPerSec: number;
  replugs: number;
  fuzzRuns: number;
  lockHoldMs: number;
}

const PROFILES: Record<ProfileName, Profile> = {
  short: {
    crashKills: 50,
    crashUptimeMs: [150, 900],
    reloads: 100,
    loadSeconds: 10,
    loadReadsPerSec: 500,
    loadCallbacksPerSec: 200,
    loadReaders: 20,
    floodSeconds: 3,
    floodLinesPerSec: 10_000,
    replugs: 3,
    fuzzRuns: 150,
    lockHoldMs: 10_000,
  },
  long: {
    crashKills: 300,
    crashUptimeMs: [150, 3000],
    reloads: 500,
    loadSeconds: 60,
    loadReadsPerSec: 500,
    loadCallbacksPerSec: 200,
    loadReaders: 20,
    floodSeconds: 10,
    floodLinesPerSec: 10_000,
    replugs: 10,
    fuzzRuns: 2000,
    lockHoldMs: 10_000,
  },
};

export const profile: Profile = PROFILES[PROFILE];

/** A test's wall-clock allowance: its own work plus a margin for a loaded CI box. */
export function budgetMs(expectedMs: number): number {
  return Math.round(expectedMs * 2 + 30_000);
}

/**
 * Figures a run measured (ready times, latencies, RSS). Printed for the log, and appended as
 * one JSON line to $LINTEL_RESILIENCE_REPORT when set, which is how RESILIENCE.md is updated.
 */
export function reportFigures(test: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ test, profile: PROFILE, at: new Date().toISOString(), ...figures });
  console.log(`[resilience] ${line}`);
  const file = process.env.LINTEL_RESILIENCE_REPORT;
  if (file) appendFileSync(file, line + '\n');
}
