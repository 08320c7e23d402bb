import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { errorMessage } from '../util/errors.js';

/**
 * Files the config points at: secrets (tokens, passwords, private keys) and public ones (CA and
 * client certificates). A secret that group or others can read is refused, not used: it has
 * already leaked to every account on the host, and using it silently would hide that. What a
 * refusal means is the caller's call, per file (see Gateway: a link secret faults that link,
 * the operator token stops the start), so that doors keep deciding.
 */
export type FileKind = 'secret' | 'public';

export type FileRead = { ok: true; data: Buffer; text: string } | { ok: false; problem: string };

export function readConfigFile(path: string, kind: FileKind): FileRead {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return { ok: false, problem: `cannot read ${path}: ${errorMessage(err).replace(/, open '.*'$/, '')}` };
  }
  try {
    // The mode of the file we opened, not of whatever the path names a moment later.
    const mode = fstatSync(fd).mode & 0o777;
    if (kind === 'secret' && (mode & 0o044) !== 0) {
      return { ok: false, problem: `${path} is readable by group/others (mode 0${mode.toString(8)}): chmod 600 ${path}` };
    }
    const data = readFileSync(fd);
    return { ok: true, data, text: data.toString('utf8').trim() };
  } catch (err) {
    return { ok: false, problem: `cannot read ${path}: ${errorMessage(err)}` };
  } finally {
    closeSync(fd);
  }
}

/** A secret given inline or as a file: the value, nothing configured, or why the file cannot be used. */
export function resolveSecret(inline: string | undefined, file: string | undefined): FileRead | null {
  if (inline !== undefined) return { ok: true, data: Buffer.from(inline), text: inline };
  if (file === undefined) return null;
  return readConfigFile(file, 'secret');
}
