import { Pool } from 'undici';

/**
 * The raw ceiling of delivery: an undici Pool with `concurrency` keep-alive
 * connections POSTing prepared bodies (with headers of the product's names
 * and sizes, fixed values) to the receiver, `concurrency` requests in flight,
 * each response body read and discarded. Returns elapsed ms and the number
 * of non-2xx answers.
 */
export async function rawPostAll(options: {
  url: string;
  bodies: readonly Buffer[];
  headers: (i: number) => Record<string, string>;
  concurrency: number;
}): Promise<{ ms: number; non2xx: number }> {
  const target = new URL(options.url);
  const pool = new Pool(target.origin, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  let next = 0;
  let non2xx = 0;
  const worker = async () => {
    for (let i = next++; i < options.bodies.length; i = next++) {
      const response = await pool.request({ path: target.pathname, method: 'POST', headers: options.headers(i), body: options.bodies[i]! });
      await response.body.dump();
      if (response.statusCode < 200 || response.statusCode > 299) non2xx++;
    }
  };
  try {
    const started = performance.now();
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    return { ms: performance.now() - started, non2xx };
  } finally {
    await pool.close();
  }
}
