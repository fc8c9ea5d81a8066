/**
 * The ceiling of the API-over-HTTP scenario: a bare node:http server that
 * answers `GET /api/workers/{id}/webhook/executions?page=N` by running the
 * product's own prepared statements (`ReadModels.executionsPage`) on the same
 * database file and writing the JSON. No auth, no router, no validation
 * library, no request log: what the product's HTTP layer adds is the gap.
 *
 *   node raw-api-server.js DB_PATH   → sends { type: 'ready', port }
 */
import { createServer } from 'node:http';
import { openSqliteDatabase } from '@handinger-webhooks/storage-sqlite';
import { ReadModels } from '@handinger-webhooks/projections';
import { exitWithParent, send } from './child.js';

exitWithParent();
const dbPath = process.argv[2];
if (!dbPath) {
  process.stderr.write('usage: raw-api-server.js DB_PATH\n');
  process.exit(2);
}
const readModels = new ReadModels(openSqliteDatabase(dbPath).sql);
const ROUTE = /^\/api\/workers\/([^/]+)\/webhook\/executions$/;

const server = createServer(async (req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const match = ROUTE.exec(q < 0 ? url : url.slice(0, q));
  const page = q < 0 ? 1 : Number(new URLSearchParams(url.slice(q + 1)).get('page') ?? '1');
  if (!match || req.method !== 'GET' || !Number.isInteger(page) || page < 1) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end('{"code":"BAD_REQUEST","message":"bad request"}');
    return;
  }
  const body = JSON.stringify(await readModels.executionsPage(decodeURIComponent(match[1]!), page));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  void send({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});
