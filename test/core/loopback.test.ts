import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/config/loopback.js';

/* Decides whether the operator API may run without a token: a name that merely starts with "127." is not loopback. */

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.1.2.3', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '[::1]', '::ffff:127.0.0.1', '::ffff:7f00:1', 'localhost', 'LOCALHOST'])(
    'accepts %s',
    (host) => expect(isLoopback(host)).toBe(true),
  );

  it.each(['127.0.0.1.nip.io', '127.evil.example', '0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1', 'localhost.example.com', '127.0.0.256', '127.0.0', 'example.com', ''])(
    'refuses %s',
    (host) => expect(isLoopback(host)).toBe(false),
  );
});
