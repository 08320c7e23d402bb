import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/util/log.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The real gateway on loopback, no operator token (the default bind). A 400 MB upload must be
 * refused from what was read of it, not after buffering it, and the refusal must stop the
 * upload: what the server read is bounded by socket buffers, not by what the client sends.
 */

const HUGE = 400 * 1024 * 1024;
const CHUNK = Buffer.alloc(256 * 1024, 0x20);
/** Loopback socket buffers plus node's read-ahead are a few MB; far below the 400 MB sent. */
const READ_BOUND = 32 * 1024 * 1024;

interface Upload {
  status: number | null;
  clientWrote: number;
  serverRead: number;
}

let gateway: Gateway;
let port: number;
let cleanup: () => void;
const serverSockets: Socket[] = [];

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  gateway = new Gateway({
    config: parseConfig({
      site: { id: 'gw' },
      dataDir: join(t.dir, 'data'),
      http: { host: '127.0.0.1', port: 0, allowedHosts: ['door-gw.example.net'] },
      mqtt: { url: 'embedded', embeddedPort: 0 },
      doors: [{ id: 'front' }],
    }),
    logger: silentLogger,
    stdin: new (await import('node:stream')).PassThrough(),
  });
  await gateway.start();
  port = gateway.address()!.port;
  gateway.httpServer()!.on('connection', (s) => serverSockets.push(s));
});

afterAll(async () => {
  await gateway?.stop();
  cleanup?.();
});

/** Sends headers, then body bytes as fast as the socket takes them, until the server answers or closes. */
function upload(headers: string[], chunked: boolean): Promise<Upload> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let wrote = 0;
    let answer = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      const server = serverSockets.at(-1);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      resolve({ status: status ? Number(status[1]) : null, clientWrote: wrote, serverRead: server?.bytesRead ?? -1 });
    };
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n\r\n')) setTimeout(finish, 100); // let the server finish closing
    });
    socket.on('error', finish);
    socket.on('close', finish);
    const pump = () => {
      while (!done && wrote < HUGE) {
        const piece = chunked ? Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')]) : CHUNK;
        wrote += CHUNK.length;
        if (!socket.write(piece)) return socket.once('drain', pump);
      }
    };
    socket.on('connect', () => {
      socket.write(`${headers.join('\r\n')}\r\n\r\n`);
      pump();
    });
  });
}

describe('HTTP body cap on a real server', () => {
  it('a declared 400 MB body is answered 413 after reading at most a little of it', async () => {
    const rss0 = process.memoryUsage().rss;
    const res = await upload(
      ['POST /api/qr/tokens HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Content-Type: application/json', `Content-Length: ${HUGE}`],
      false,
    );
    console.log(`declared 400 MB: status ${res.status}, client wrote ${(res.clientWrote / 1e6).toFixed(1)} MB, server read ${(res.serverRead / 1e6).toFixed(1)} MB, rss +${((process.memoryUsage().rss - rss0) / 1e6).toFixed(1)} MB`);
    expect(res.status).toBe(413);
    expect(res.serverRead).toBeGreaterThan(0);
    expect(res.serverRead).toBeLessThan(READ_BOUND);
  }, 60_000);

  it('a chunked upload with no declared length is refused at the cap, the rest is not read', async () => {
    const rss0 = process.memoryUsage().rss;
    const res = await upload(
      ['POST /api/qr/tokens HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Content-Type: application/json', 'Transfer-Encoding: chunked'],
      true,
    );
    console.log(`chunked 400 MB: status ${res.status}, client wrote ${(res.clientWrote / 1e6).toFixed(1)} MB, server read ${(res.serverRead / 1e6).toFixed(1)} MB, rss +${((process.memoryUsage().rss - rss0) / 1e6).toFixed(1)} MB`);
    expect(res.status).toBe(413);
    expect(res.serverRead).toBeLessThan(READ_BOUND);
  }, 60_000);

  it('the gateway applies http.allowedHosts and refuses the reported cross-site POST', async () => {
    const base = `http://127.0.0.1:${port}`;
    const attack = await fetch(`${base}/api/qr/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      body: '{"email":"ana@example.com"}',
    });
    expect(attack.status).toBe(403);
    const named = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.write('GET /health HTTP/1.1\r\nHost: door-gw.example.net\r\nConnection: close\r\n\r\n'));
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
    });
    expect(named).toMatch(/^HTTP\/1\.1 200/);
  });
});
