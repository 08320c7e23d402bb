import { beforeEach, describe, expect, it } from 'vitest';
import { UpstreamHealth } from '../../src/upstream/health.js';
import { FakeClock } from '../helpers/fake-clock.js';

// random = 0.5 makes the ±20 % jitter exactly 0, so every backoff is its raw value.
let clock: FakeClock;
let health: UpstreamHealth;
const left = (): number => health.blockedUntil - clock.now();

beforeEach(() => {
  clock = new FakeClock();
  health = new UpstreamHealth(clock, true, () => 0.5);
});

/** The reconciler's fetch concurrency: this many calls can be in flight when the gate closes. */
const IN_FLIGHT = 16;

describe('the backoff escalates at most once per gate period', () => {
  it('16 concurrent 5xx of one outage: 1 s, not the 5 min maximum', () => {
    for (let i = 0; i < IN_FLIGHT; i++) health.failure('server', '503 GET /x');
    expect(health.state).toBe('unreachable');
    expect(left()).toBe(1000);
    // The next period (a probe after the gate opened) escalates once more, as before.
    clock.advance(1000);
    for (let i = 0; i < IN_FLIGHT; i++) health.failure('network', 'GET /x: ECONNRESET');
    expect(left()).toBe(2000);
  });

  it('in-flight failures arriving later in the gate period neither escalate nor move the gate', () => {
    health.failure('timeout', 'GET /x: timed out');
    const until = health.blockedUntil;
    clock.advance(600);
    health.failure('server', '502 GET /x');
    expect(health.blockedUntil).toBe(until);
  });

  it('16 concurrent 401: 1 min (not about 1 h), unauthorized; the next period grows', () => {
    for (let i = 0; i < IN_FLIGHT; i++) health.failure('unauthorized', '401 GET /x');
    expect(health.state).toBe('unauthorized');
    expect(left()).toBe(60_000);
    clock.advance(60_000);
    health.failure('unauthorized', '401 GET /x');
    expect(left()).toBe(120_000);
  });

  it('429 during its retry-after: no escalation, but a later retry-after from the platform counts', () => {
    health.failure('rate_limited', '429 GET /x', 42_000);
    health.failure('rate_limited', '429 GET /x');
    expect(left()).toBe(42_000);
    clock.advance(1000);
    health.failure('rate_limited', '429 GET /x', 60_000);
    expect(left()).toBe(60_000);
  });

  it('a 401 while closed for an outage is a new fault: it still closes for the long backoff', () => {
    health.failure('server', '503 GET /x');
    health.failure('unauthorized', '401 GET /x');
    expect(health.state).toBe('unauthorized');
    expect(left()).toBe(60_000);
  });

  it('a success resets the backoff', () => {
    for (let i = 0; i < 3; i++) {
      health.failure('server', '503 GET /x');
      clock.advance(left());
    }
    health.success();
    expect(health.blocked()).toBe(false);
    health.failure('server', '503 GET /x');
    expect(left()).toBe(1000);
  });
});

describe('a token change lifts only a 401 block', () => {
  it('keeps a 429 retry-after block', () => {
    health.failure('rate_limited', '429 GET /x', 120_000);
    health.tokenChanged(true);
    expect(health.blocked()).toBe(true);
    expect(left()).toBe(120_000);
  });

  it('keeps an outage block', () => {
    health.failure('server', '503 GET /x');
    health.tokenChanged(true);
    expect(left()).toBe(1000);
  });

  it('lifts a 401 block (an outage block that overlapped it still stands)', () => {
    health.failure('unauthorized', '401 GET /x');
    expect(health.blocked()).toBe(true);
    health.tokenChanged(true);
    expect(health.blocked()).toBe(false);

    health.failure('unauthorized', '401 GET /x');
    health.failure('server', '503 GET /x');
    health.tokenChanged(true);
    expect(left()).toBe(1000);
  });
});

describe('unauthorized is sticky until a success or a token change', () => {
  it('a later 5xx does not hide the 401 on the status', () => {
    health.failure('unauthorized', '401 GET /x: token rejected');
    clock.advance(60_000);
    // The probe after the 401 backoff meets an outage: the token is still bad as far as we know.
    health.failure('server', '503 GET /x');
    expect(health.state).toBe('unauthorized');
    expect(health.lastError).toBe('401 GET /x: token rejected');
    expect(left()).toBe(1000);
    health.failure('network', 'GET /x: ECONNREFUSED');
    health.failure('rate_limited', '429 GET /x', 5000);
    expect(health.state).toBe('unauthorized');
    expect(health.lastError).toBe('401 GET /x: token rejected');
  });

  it('a 5xx (e.g. the visitor check, which bypasses the gate) does not shorten the 401 block', () => {
    health.failure('unauthorized', '401 GET /x');
    clock.advance(10_000);
    health.failure('server', '503 POST /visits/verify');
    expect(health.state).toBe('unauthorized');
    expect(left()).toBe(50_000);
  });

  it('after a success or a token change a 5xx shows as unreachable again', () => {
    health.failure('unauthorized', '401 GET /x');
    health.success();
    health.failure('server', '503 GET /x');
    expect(health.state).toBe('unreachable');

    health.success();
    health.failure('unauthorized', '401 GET /x');
    health.tokenChanged(true);
    health.failure('server', '503 GET /x');
    expect(health.state).toBe('unreachable');
    expect(health.lastError).toBe('503 GET /x');
  });
});
