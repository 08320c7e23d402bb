import { readFileSync } from 'node:fs';
import { MIN_PASSWORD_LENGTH } from '../console/passwords.js';
import { UsageError } from './exit-codes.js';

/*
 * Where `lintel operator add|passwd` gets the password: a file (--password-file, for scripts
 * and config management), else standard input, one line. On a terminal the line is read with
 * echo off, so it never shows on screen nor stays in the scrollback; it is never printed.
 */

/** The first line of `text`, without its line ending. */
const firstLine = (text: string): string => text.split(/\r?\n/, 1)[0] ?? '';

/** A password shorter than the minimum is refused before anything is hashed or written (exit 2). */
export function checkedPassword(password: string): string {
  if ([...password].length < MIN_PASSWORD_LENGTH) throw new UsageError(`the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  return password;
}

export async function readPassword(file: string | undefined, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--password-file: ${(err as Error).message}`);
    }
    return checkedPassword(firstLine(text));
  }
  return checkedPassword(stdin.isTTY ? await readHiddenLine(stdin) : firstLine(await readAll(stdin)));
}

async function readAll(stdin: NodeJS.ReadStream): Promise<string> {
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) {
    text += chunk as string;
    // One line is all we take: stop reading at the first line ending.
    if (/\r?\n/.test(text)) break;
  }
  return text;
}

/** Raw mode: the terminal echoes nothing; Enter ends the line, Ctrl-C aborts, Backspace deletes. */
function readHiddenLine(stdin: NodeJS.ReadStream): Promise<string> {
  process.stderr.write('password (not shown): ');
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (err: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') line = [...line].slice(0, -1).join('');
        else if (ch >= ' ') line += ch;
      }
    };
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
