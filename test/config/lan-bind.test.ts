import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { preflight } from '../../src/config/preflight.js';
import { planReload } from '../../src/config/reload-plan.js';
import { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/util/log.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The LAN-bind rule (config/preflight.ts): beyond loopback the gateway needs TLS (its own or a
 * proxy's) and authentication (the token or an operator account). The gateway's own HTTPS is
 * checked for real: a self-signed certificate made by openssl in the test's directory, a
 * gateway serving it on loopback, and a client that trusts only that certificate.
 */

describe('binding beyond loopback', () => {
  let dir: string;
  let cleanup: () => void;
  let cert: string;
  let key: string;
  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    cert = join(dir, 'cert.pem');
    key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    chmodSync(key, 0o600);
  });
  afterAll(() => cleanup());

  const config = (http: Record<string, unknown>) => parseConfig({ site: { id: 'lan' }, dataDir: join(dir, 'data'), http, mqtt: { url: 'mqtt://127.0.0.1:1' }, doors: [{ id: 'front' }] });
  const errors = (http: Record<string, unknown>, operatorAccounts = 0) => preflight(config(http), { operatorAccounts }).errors;

  it('needs TLS and authentication; either missing is named, both present pass', () => {
    expect(errors({ host: '0.0.0.0' })).toEqual([
      expect.stringMatching(/^http\.host: 0\.0\.0\.0 is not loopback: set http\.authToken or http\.authTokenFile, or add an operator account/),
      expect.stringMatching(/^http\.host: 0\.0\.0\.0 is not loopback: serve HTTPS \(http\.tls/),
    ]);
    expect(errors({ host: '0.0.0.0', authToken: 'tok' })).toEqual([expect.stringMatching(/serve HTTPS/)]);
    expect(errors({ host: '0.0.0.0', behindTlsProxy: true })).toEqual([expect.stringMatching(/add an operator account/)]);
    expect(errors({ host: '0.0.0.0', behindTlsProxy: true }, 1)).toEqual([]);
    expect(errors({ host: '10.0.0.5', authToken: 'tok', tls: { certFile: cert, keyFile: key } })).toEqual([]);
    // Loopback stays as it was: no TLS, no authentication needed.
    expect(errors({ host: '127.0.0.1' })).toEqual([]);
  });

  it('refuses TLS files that cannot be used: missing, or a key others can read', () => {
    const loose = join(dir, 'loose-key.pem');
    writeFileSync(loose, 'x', { mode: 0o644 });
    expect(errors({ host: '127.0.0.1', tls: { certFile: join(dir, 'nope.pem'), keyFile: key } })).toEqual([expect.stringMatching(/^http\.tls\.certFile: /)]);
    expect(errors({ host: '127.0.0.1', tls: { certFile: cert, keyFile: loose } })).toEqual([expect.stringMatching(/^http\.tls\.keyFile: .*readable by group\/others/)]);
  });

  it('tls and behindTlsProxy change only on a restart', () => {
    const running = config({ host: '127.0.0.1' });
    const plan = planReload(running, config({ host: '127.0.0.1', behindTlsProxy: true, tls: { certFile: cert, keyFile: key } }));
    expect(plan.live).toEqual([]);
    expect(plan.restart).toEqual(['http.behindTlsProxy', 'http.tls']);
  });

  it('serves HTTPS with the configured certificate, and nothing over plain HTTP', async () => {
    const gateway = new Gateway({ config: config({ host: '127.0.0.1', port: 0, tls: { certFile: cert, keyFile: key } }), logger: silentLogger });
    await gateway.start();
    try {
      const port = gateway.address()!.port;
      const get = (path: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path, ca: readFileSync(cert) }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          });
          req.on('error', reject);
          req.end();
        });
      const health = await get('/health');
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ site: 'lan' });
      expect((await get('/login')).body).toContain('<form method="post" action="/login">');
      // Plain HTTP on the same port gets no page.
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    } finally {
      await gateway.stop();
    }
  }, 30_000);
});
