import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { silentLogger } from '@handinger-webhooks/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer, type HttpServerOptions } from './http-server.js';

interface Started {
  http: HttpServer;
  port: number;
  /** Every connection the server accepted and kept (refused ones never show up), open or closed. */
  accepted: Socket[];
}

const servers: HttpServer[] = [];
const clients: Socket[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(servers.splice(0).map((http) => http.close(0)));
});

/** A trivial handler: reads the whole body, then answers 200 with how many bytes it got. */
async function start(options: HttpServerOptions = {}): Promise<Started> {
  const http = createHttpServer(
    (req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: true, bytes }));
      });
    },
    silentLogger,
    options,
  );
  servers.push(http);
  const accepted: Socket[] = [];
  http.server.on('connection', (socket: Socket) => accepted.push(socket));
  const { port } = await http.listen('127.0.0.1', 0);
  return { http, port, accepted };
}

interface Connection {
  socket: Socket;
  /** Everything the server sent until it closed the connection (a reset counts as a close). */
  closed: Promise<string>;
}

/** A raw connection, listening from the first moment (the server may close it before the caller looks). */
function open(port: number): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    clients.push(socket);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = new Promise<string>((resolveClosed) => socket.once('close', () => resolveClosed(Buffer.concat(chunks).toString('latin1'))));
    socket.on('error', () => {});
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({ socket, closed });
    });
  });
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parse(raw: string): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  expect(end, `a complete response, got ${JSON.stringify(raw.slice(0, 200))}`).toBeGreaterThan(0);
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine?.split(' ')[1]), headers, body: raw.slice(end + 4) };
}

/** Writes `bytes` on a fresh connection and returns what came back before the server closed it. */
async function exchange(port: number, bytes: string): Promise<RawAnswer> {
  const { socket, closed } = await open(port);
  socket.write(bytes);
  return parse(await closed);
}

function expectJsonError(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  expect(answer.headers.connection).toBe('close');
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  const parsed = JSON.parse(answer.body) as { code: unknown; message: unknown };
  expect(parsed).toEqual({ code, message: expect.any(String) });
  expect((parsed.message as string).length).toBeGreaterThan(0);
}

/** A normal request on its own connection. */
function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('createHttpServer: what Node rejects before the handler', () => {
  it('answers a malformed request line 400 with a JSON error body, then closes', async () => {
    const { port } = await start();
    expectJsonError(await exchange(port, 'HELLO THERE\r\n\r\n'), 400, 'BAD_REQUEST');
    expectJsonError(await exchange(port, 'GET / HTTP/9.9 nonsense\r\nHost: x\r\n\r\n'), 400, 'BAD_REQUEST');
  });

  it('answers a malformed header 400 with a JSON error body', async () => {
    const { port } = await start();
    expectJsonError(await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n'), 400, 'BAD_REQUEST');
  });

  it('answers a 20 KB header 431 with a JSON error body', async () => {
    const { port } = await start();
    const answer = await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectJsonError(answer, 431, 'BAD_REQUEST');
    expect(answer.body).toContain('headers too large');
  });

  it('answers a body that stops trickling in 408 with a JSON error body once the request timeout passes', async () => {
    const { port } = await start({ requestTimeoutMs: 1_000, connectionsCheckingIntervalMs: 100 });
    const started = performance.now();
    const answer = await exchange(port, 'POST /trpc/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
    expectJsonError(answer, 408, 'TIMEOUT');
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('answers headers that never finish 408 too', async () => {
    const { port } = await start({ requestTimeoutMs: 1_000, connectionsCheckingIntervalMs: 100 });
    expectJsonError(await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: '), 408, 'TIMEOUT');
  });

  it('keeps serving after a client resets mid-request', async () => {
    const { port } = await start();
    const { socket, closed } = await open(port);
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab');
    socket.resetAndDestroy();
    await closed;
    expect(await get(port)).toEqual({ status: 200, body: '{"ok":true,"bytes":0}' });
  });

  it('still answers well-formed requests normally', async () => {
    const { port } = await start();
    expect(await get(port)).toEqual({ status: 200, body: '{"ok":true,"bytes":0}' });
  });
});

describe('createHttpServer: open connections cap', () => {
  it('refuses connections beyond the cap and serves again once idle ones go', async () => {
    const cap = 3;
    const { http, port, accepted } = await start({ maxConnections: cap });
    const acceptedCount = (count: number) =>
      new Promise<void>((resolve) => {
        if (accepted.length >= count) return resolve();
        const onConnection = () => {
          if (accepted.length < count) return;
          http.server.off('connection', onConnection);
          resolve();
        };
        http.server.on('connection', onConnection);
      });

    const closedOnServer = (socket: Socket | undefined) =>
      new Promise((resolve) => (socket === undefined || socket.destroyed ? resolve(undefined) : socket.once('close', resolve)));

    // Below the cap, a request is served next to idle connections.
    const idle: Connection[] = [];
    for (let i = 0; i < cap - 1; i++) idle.push(await open(port));
    await acceptedCount(cap - 1);
    expect(await get(port)).toMatchObject({ status: 200 });
    await closedOnServer(accepted[cap - 1]); // the request's connection (Connection: close)

    // At the cap, every further connection is closed by the server at once, sending nothing.
    idle.push(await open(port));
    await acceptedCount(cap + 1);
    const extra = await Promise.all([open(port), open(port), open(port)]);
    expect(await Promise.all(extra.map((connection) => connection.closed))).toEqual(['', '', '']);
    expect(idle.every(({ socket }) => !socket.destroyed)).toBe(true);
    expect(accepted).toHaveLength(cap + 1);

    // Once the idle ones go, the server answers again.
    const gone = Promise.all(accepted.map(closedOnServer));
    for (const { socket } of idle) socket.destroy();
    await gone;
    expect(await get(port)).toMatchObject({ status: 200 });
  });
});
