/**
 * The webhook receiver of the delivery scenario, in its own process: a plain
 * node:http server on 127.0.0.1 that reads each request body and answers 200
 * with an empty body, keeping connections alive. Both the product (the
 * delivery app) and the ceiling (a raw undici Pool) send to it.
 *
 * IPC: sends `{ type: 'ready', port }`; answers `stats` with
 * `{ type: 'stats', requests, distinctWebhookIds, firstAt, lastAt, bytes }`
 * (times are epoch ms with sub-ms precision), `reset` with `reset-done`,
 * and `arrivals` with `{ type: 'arrivals', arrivals: [taskId, at][] }`: when
 * each task's first request arrived (the latency scenario; task ids are read
 * from the bodies only after a `track` message, so the throughput scenarios
 * do not pay for the JSON parse).
 */
import { createServer } from 'node:http';
import { exitWithParent, onMessage, send } from './child.js';

exitWithParent();
const now = () => performance.timeOrigin + performance.now();
let requests = 0;
let bytes = 0;
let firstAt = 0;
let lastAt = 0;
let ids = new Set<string>();
let tracking = false;
let arrivals = new Map<string, number>();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (tracking) chunks.push(chunk);
  });
  req.on('end', () => {
    const at = now();
    if (tracking) {
      const taskId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { taskId?: string } }).data?.taskId;
      if (typeof taskId === 'string' && !arrivals.has(taskId)) arrivals.set(taskId, at);
    }
    if (requests === 0) firstAt = at;
    lastAt = at;
    requests++;
    const id = req.headers['webhook-id'];
    if (typeof id === 'string') ids.add(id);
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;

onMessage(async (message) => {
  if (message.type === 'stats') {
    await send({ type: 'stats', requests, distinctWebhookIds: ids.size, firstAt, lastAt, bytes });
  } else if (message.type === 'track') {
    tracking = true;
    arrivals = new Map();
    await send({ type: 'tracking' });
  } else if (message.type === 'arrivals') {
    tracking = false;
    await send({ type: 'arrivals', arrivals: [...arrivals] });
  } else if (message.type === 'reset') {
    requests = 0;
    bytes = 0;
    firstAt = 0;
    lastAt = 0;
    ids = new Set();
    await send({ type: 'reset-done' });
  }
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  void send({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});
