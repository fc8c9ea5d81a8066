import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, type Receiver } from '@handinger-webhooks/testing';
import type { Resolver } from './ssrf-guard.js';
import { completeTask, useTestBed, waitForExecutions, workerWithWebhook, type TestBed } from './test-support/fixture.js';

describe.each(TEST_BACKENDS)('SSRF guard in delivery (%s)', (backend) => {
  let bed: TestBed;
  const started = useTestBed((created) => (bed = created), backend);
  const receiver = (host?: string): Promise<Receiver> => started.receiver(undefined, host ? { host } : {});

  /** Sends one completion to `url` in strict mode and returns its execution. */
  async function attemptIn(strict: { url: string; resolve?: Resolver }) {
    const workerId = await workerWithWebhook(bed.app, strict.url);
    await completeTask(bed.app, workerId);
    bed.deliver({ allowPrivateNetwork: false, retryScheduleMs: [] }, strict.resolve ? { resolve: strict.resolve } : {});
    const [execution] = await waitForExecutions(bed.app, workerId, 1);
    return execution!;
  }

  describe('strict mode (no --allow-private-network) refuses non-public targets at connect time', () => {
    it.each([
      ['a name resolving to loopback', (port: number) => `http://localhost:${port}/h`, 'blocked: 127.0.0.1 is a loopback address'],
      ['an IPv4 loopback literal', (port: number) => `http://127.0.0.1:${port}/h`, 'blocked: 127.0.0.1 is a loopback address'],
      ['another 127/8 address', (port: number) => `http://127.1.2.3:${port}/h`, 'blocked: 127.1.2.3 is a loopback address'],
      ['an IPv4-mapped IPv6 loopback', (port: number) => `http://[::ffff:127.0.0.1]:${port}/h`, 'blocked: ::ffff:7f00:1 is a loopback address'],
      ['an IPv4-compatible IPv6 loopback', (port: number) => `http://[::127.0.0.1]:${port}/h`, 'blocked: ::7f00:1 is an IPv4-compatible address embedding 127.0.0.1'],
      ['an IPv4-compatible IPv6 metadata address', (port: number) => `http://[::169.254.169.254]:${port}/h`, 'blocked: ::a9fe:a9fe is an IPv4-compatible address embedding 169.254.169.254'],
      ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/', 'blocked: 169.254.169.254 is a link-local address'],
      ['a private address', () => 'https://10.0.0.5/hook', 'blocked: 10.0.0.5 is a private address'],
    ])('blocks %s', async (_name, url, message) => {
      const r = await receiver();
      const execution = await attemptIn({ url: url(r.port) });
      expect(execution).toMatchObject({ requestStatus: 'error', responseStatus: null, errorMessage: message, url: url(r.port) });
      // Not even a TCP connection reached the receiver.
      expect(r.connections()).toBe(0);
    });

    it('blocks the IPv6 loopback', async () => {
      const r = await receiver('::1');
      const execution = await attemptIn({ url: `${r.url}/h` });
      expect(execution).toMatchObject({ responseStatus: null, errorMessage: 'blocked: ::1 is a loopback address' });
      expect(r.connections()).toBe(0);
    });

    it('blocks a public-looking name whose DNS answer is private (checked after resolution)', async () => {
      const r = await receiver();
      const rebinding: Resolver = (_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);
      const execution = await attemptIn({ url: `http://hooks.example.com:${r.port}/h`, resolve: rebinding });
      expect(execution).toMatchObject({ responseStatus: null, errorMessage: 'blocked: 127.0.0.1 is a loopback address' });
      expect(r.connections()).toBe(0);
    });

    it('blocks a name whose DNS answer is an IPv4-compatible IPv6 address (::7f00:1)', async () => {
      const r = await receiver();
      const compatible: Resolver = (_host, _options, callback) => callback(null, [{ address: '::7f00:1', family: 6 }]);
      const execution = await attemptIn({ url: `http://hooks.example.com:${r.port}/h`, resolve: compatible });
      expect(execution).toMatchObject({
        requestStatus: 'error',
        responseStatus: null,
        errorMessage: 'blocked: ::7f00:1 is an IPv4-compatible address embedding 127.0.0.1',
      });
      expect(r.connections()).toBe(0);
    });

    it('delivers to the same receiver when the private network is allowed (control)', async () => {
      const r = await receiver();
      const workerId = await workerWithWebhook(bed.app, `http://localhost:${r.port}/h`);
      await completeTask(bed.app, workerId);
      bed.deliver({ allowPrivateNetwork: true });
      const [execution] = await waitForExecutions(bed.app, workerId, 1);
      expect(execution).toMatchObject({ requestStatus: 'success', responseStatus: 200 });
      expect(r.requests).toHaveLength(1);
    });
  });
});
