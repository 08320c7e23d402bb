/*
 * Which Node.js runs lintel. Checked by src/cli.ts before anything else is imported: the native
 * modules (better-sqlite3, serialport, node-hid) are built for one ABI and an old Node fails in
 * them with a dlopen error that names neither Node nor the fix. No imports here for that reason.
 *
 * MIN_NODE matches package.json "engines" (>=20.19, set with the project's first commit;
 * better-sqlite3 12 and serialport 13 need 20 at least). TESTED_MAJORS are the majors the test
 * suite has run on (20 only so far; add 22 once CI runs it): a newer one probably works and is
 * warned about, not refused.
 */
export const MIN_NODE = { major: 20, minor: 19, patch: 0 } as const;
export const TESTED_MAJORS: readonly number[] = [20];

export type NodeCheck = { ok: true; warning?: string } | { ok: false; message: string };

/** `version`: process.version ("v20.19.1") or without the v. */
export function checkNodeVersion(version: string): NodeCheck {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  const min = `${MIN_NODE.major}.${MIN_NODE.minor}.${MIN_NODE.patch}`;
  if (!m) return { ok: false, message: `lintel: cannot read the Node.js version "${version}"; lintel needs Node.js ${min} or newer` };
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const below =
    major !== MIN_NODE.major ? major < MIN_NODE.major : minor !== MIN_NODE.minor ? minor < MIN_NODE.minor : patch < MIN_NODE.patch;
  if (below) {
    return {
      ok: false,
      message: `lintel: Node.js ${min} or newer is required, this is ${version}. Install Node.js ${TESTED_MAJORS.join(' or ')} (see README "Install"), then run lintel again.`,
    };
  }
  if (!TESTED_MAJORS.includes(major)) {
    return { ok: true, warning: `lintel: warning: Node.js ${major} is not one lintel is tested on (${TESTED_MAJORS.join(', ')}); if the native modules fail to load, rebuild them (npm rebuild) or use a tested version` };
  }
  return { ok: true };
}
