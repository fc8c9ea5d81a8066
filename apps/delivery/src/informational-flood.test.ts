import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TOO_MANY_INFORMATIONAL_MESSAGE } from './outcome.js';
import { MAX_INFORMATIONAL_RESPONSES, Sender } from './sender.js';

const TIMEOUT_MS = 10_000;
const PROCESSING = 'HTTP/1.1 102 Processing\r\n\r\n';

/**
 * A raw TCP receiver: once the whole request (headers and Content-Length
 * body) has arrived, `respond` takes the socket. Nothing here is undici or
 * node:http, so the receiver can misbehave freely.
 */
async function rawReceiver(respond: (socket: Socket) => void): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(buffered.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      socket.off('data', onData);
      socket.resume();
      respond(socket);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    server,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes 102 Processing responses as fast as the socket drains, until it closes. */
function flood(socket: Socket): void {
  const chunk = Buffer.from(PROCESSING.repeat(2_048));
  const pump = (): void => {
    while (!socket.destroyed && socket.write(chunk));
  };
  socket.on('drain', pump);
  pump();
}

/** The event loop's worst lateness while it runs: a 5 ms interval measuring how late each tick fires. */
function probeEventLoop(): { stop(): number } {
  const period = 5;
  let expected = performance.now() + period;
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - expected);
    expected = now + period;
  }, period);
  return {
    stop() {
      clearInterval(timer);
      return worst;
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function setUp(respond: (socket: Socket) => void): Promise<{ url: string; sender: Sender }> {
  const receiver = await rawReceiver(respond);
  const sender = new Sender({ timeoutMs: TIMEOUT_MS, perOriginConcurrency: 4, allowPrivateNetwork: true });
  cleanups.push(() => sender.destroy(), () => receiver.close());
  return { url: receiver.url, sender };
}

const headers = ['content-type', 'application/json'];
const body = Buffer.from('{"type":"task.completed"}');

describe('informational (1xx) responses', () => {
  it('a receiver streaming endless 102 Processing ends the attempt early, without stalling the event loop', async () => {
    const { url, sender } = await setUp(flood);
    const probe = probeEventLoop();
    const started = performance.now();
    const outcome = await sender.send(url, headers, body);
    const elapsed = performance.now() - started;
    const worstLateness = probe.stop();

    expect(outcome).toEqual({ responseStatus: null, transportError: TOO_MANY_INFORMATIONAL_MESSAGE });
    // Well before the 10 s deadline (the old code waited it out).
    expect(elapsed).toBeLessThan(TIMEOUT_MS / 4);
    // Generous, so a loaded 2-core machine does not flake; the flood used to stall it for up to a second.
    expect(worstLateness).toBeLessThan(200);
  });

  it('one 102 after another, then 200, is a success', async () => {
    const { url, sender } = await setUp((socket) => {
      socket.end(`${PROCESSING}${PROCESSING}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok`);
    });
    expect(await sender.send(url, headers, body)).toEqual({ responseStatus: 200, transportError: null });
  });

  it('103 Early Hints, then 204, is a success', async () => {
    const { url, sender } = await setUp((socket) => {
      socket.end('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n');
    });
    expect(await sender.send(url, headers, body)).toEqual({ responseStatus: 204, transportError: null });
  });

  it(`accepts ${MAX_INFORMATIONAL_RESPONSES} informational responses and refuses one more`, async () => {
    const reply = (count: number) => (socket: Socket) => {
      socket.end(`${PROCESSING.repeat(count)}HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`);
    };
    const atCap = await setUp(reply(MAX_INFORMATIONAL_RESPONSES));
    expect(await atCap.sender.send(atCap.url, headers, body)).toEqual({ responseStatus: 200, transportError: null });
    const overCap = await setUp(reply(MAX_INFORMATIONAL_RESPONSES + 1));
    expect(await overCap.sender.send(overCap.url, headers, body)).toEqual({
      responseStatus: null,
      transportError: TOO_MANY_INFORMATIONAL_MESSAGE,
    });
  });
});
