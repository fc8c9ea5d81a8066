import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ThreadTransport } from './thread-transport.js';

/** A receiver on 127.0.0.1: `/ok` answers 200 at once, `/hang` never answers. */
async function receiver(): Promise<{ url: string; server: Server; hanging: () => number }> {
  let hanging = 0;
  const server = createServer((req, res) => {
    if (req.url === '/hang') {
      hanging++;
      return;
    }
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hanging: () => hanging };
}

const request = (url: string) => ({ url, headers: ['content-type', 'application/json'], body: Buffer.from('{}') });

describe('the sender thread', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('is started again when it ends unexpectedly: its attempts fail, the next ones go out', async () => {
    const { url, server, hanging } = await receiver();
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const transport = new ThreadTransport({ timeoutMs: 30_000, perOriginConcurrency: 4, allowPrivateNetwork: true });
    cleanups.push(async () => {
      server.closeAllConnections();
      await transport.destroy();
    });

    expect((await transport.send(request(`${url}/ok`))).outcome.responseStatus).toBe(200);

    // An attempt on the wire when the thread dies ends as a failure (its claim is recorded, and retried on the schedule).
    const onTheWire = transport.send(request(`${url}/hang`));
    while (hanging() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await transport.crashForTests();
    expect((await onTheWire).outcome).toEqual({ responseStatus: null, transportError: 'sender thread stopped' });

    // Sent while no thread runs: it waits for the next one, and goes out.
    const after = await transport.send(request(`${url}/ok`));
    expect(after.outcome.responseStatus).toBe(200);
  });

  it('closes while no thread runs, between a crash and the next start', async () => {
    const transport = new ThreadTransport({ timeoutMs: 30_000, perOriginConcurrency: 4, allowPrivateNetwork: true });
    await transport.crashForTests();
    await transport.close();
  });
});
