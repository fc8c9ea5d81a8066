import { Pool } from 'undici';

/**
 * A steady load: POSTs `bodies` at `ratePerSecond`, each on its own
 * schedule (request i leaves at start + i / rate, whatever the answers
 * before it), over a pool of keep-alive connections, and returns when each
 * answer came back (epoch ms, sub-ms precision) and how many were not 2xx.
 * The latency scenario measures from these answers to the receiver's
 * arrivals.
 */
export async function pacedPost(options: {
  url: string;
  bodies: readonly Buffer[];
  headers: Record<string, string>;
  ratePerSecond: number;
  connections: number;
}): Promise<{ answeredAt: Float64Array; non2xx: number }> {
  const target = new URL(options.url);
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const answeredAt = new Float64Array(options.bodies.length);
  let non2xx = 0;
  const now = () => performance.timeOrigin + performance.now();
  const send = async (i: number): Promise<void> => {
    const response = await pool.request({ path: target.pathname, method: 'POST', headers: options.headers, body: options.bodies[i]! });
    await response.body.dump();
    answeredAt[i] = now();
    if (response.statusCode < 200 || response.statusCode > 299) non2xx++;
  };
  try {
    const started = performance.now();
    const sent: Promise<void>[] = [];
    for (let i = 0; i < options.bodies.length; i++) {
      const due = started + (i * 1000) / options.ratePerSecond;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      sent.push(send(i));
    }
    await Promise.all(sent);
    return { answeredAt, non2xx };
  } finally {
    await pool.close();
  }
}
