import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { createToken } from '../../src/store/api-tokens.js';
import { silentLogger } from '../../src/util/log.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Request bodies on a real socket are read from node's stream into one Buffer (src/http/
 * body-buffer.ts), not through the fetch API: what the routes see must be what they saw
 * before, whatever framing the client used, and a body that never finishes changes nothing.
 */

let gateway: Gateway;
let port: number;
let token: string;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  gateway = new Gateway({
    config: parseConfig({
      site: { id: 'gw' },
      dataDir: join(t.dir, 'data'),
      http: { host: '127.0.0.1', port: 0, maxBodyBytes: 4096 },
      mqtt: { url: 'embedded', embeddedPort: 0 },
      doors: [{ id: 'front' }],
      zones: { lobby: { doors: ['front'] } },
      accessGroups: { members: { zones: [{ zone: 'lobby' }] } },
    }),
    logger: silentLogger,
    stdin: new (await import('node:stream')).PassThrough(),
  });
  await gateway.start();
  port = gateway.address()!.port;
  ({ token } = createToken(gateway.store, { scope: 'write', name: 'platform' }, Date.now(), 'test'));
});

afterAll(async () => {
  await gateway?.stop();
  cleanup?.();
});

/** Writes `head` and then each of `pieces` on a raw socket; resolves with the status line's code (null if none came). */
function raw(head: string[], pieces: Buffer[], opts: { hangUp?: boolean } = {}): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = () => resolve(/^HTTP\/1\.1 (\d{3})/.exec(answer) ? Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)![1]) : null);
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n\r\n')) socket.end();
    });
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      socket.write(`${[...head, `Host: 127.0.0.1:${port}`, `Authorization: Bearer ${token}`].join('\r\n')}\r\n\r\n`);
      for (const p of pieces) socket.write(p);
      if (opts.hangUp) setTimeout(() => socket.destroy(), 100);
    });
  });
}

const chunk = (s: string | Buffer) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  return Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
};
const person = (email: string) => gateway.store.db.prepare('SELECT name FROM people WHERE email = ?').get(email) as { name: string } | undefined;

describe('request bodies read from the socket', () => {
  it('a chunked JSON PUT, split mid-value, is read whole', async () => {
    const status = await raw(['PUT /api/v1/people/chunked@example.com HTTP/1.1', 'Content-Type: application/json', 'Transfer-Encoding: chunked'], [chunk('{"name":"Chu'), chunk('nked","groups":["members"]}'), Buffer.from('0\r\n\r\n')]);
    expect(status).toBe(201);
    expect(person('chunked@example.com')?.name).toBe('Chunked');
  });

  it('a body with a UTF-8 BOM and non-ASCII text reads as the fetch API reads it', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ name: 'Zoë Ångström' }))]);
    const status = await raw(['PUT /api/v1/people/bom@example.com HTTP/1.1', 'Content-Type: application/json; charset=utf-8', `Content-Length: ${body.length}`], [body]);
    expect(status).toBe(201);
    expect(person('bom@example.com')?.name).toBe('Zoë Ångström');
  });

  it('malformed JSON is refused 400 and writes nothing', async () => {
    const body = Buffer.from('{"name": "Half');
    const status = await raw(['PUT /api/v1/people/broken@example.com HTTP/1.1', 'Content-Type: application/json', `Content-Length: ${body.length}`], [body]);
    expect(status).toBe(400);
    expect(person('broken@example.com')).toBeUndefined();
  });

  it('a chunked body past http.maxBodyBytes is refused 413, and nothing is written', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(3000) });
    const status = await raw(['PUT /api/v1/people/big@example.com HTTP/1.1', 'Content-Type: application/json', 'Transfer-Encoding: chunked'], [chunk(big), chunk(big), Buffer.from('0\r\n\r\n')]);
    expect(status).toBe(413);
    expect(person('big@example.com')).toBeUndefined();
  });

  it('a client that hangs up mid-body writes nothing, and the next request is served', async () => {
    const status = await raw(['PUT /api/v1/people/gone@example.com HTTP/1.1', 'Content-Type: application/json', 'Content-Length: 200'], [Buffer.from('{"name":"Go')], { hangUp: true });
    expect(status).toBeNull();
    expect(person('gone@example.com')).toBeUndefined();
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/people/chunked@example.com`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { name: string }).name).toBe('Chunked');
  });
});
