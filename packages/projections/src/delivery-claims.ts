import { randomBytes } from 'node:crypto';
import { inList, listParam, nowMs, notInList, timeOrNow, type Sql, type TxSql } from '@handinger-webhooks/event-store';
import { CLAIMS_TABLE } from './schema.js';
import { LIVE_TABLES, type TableSet } from './tables.js';

/** What a claim may take: the caps hold for every process sharing the database (SPEC §5, §11). */
export interface ClaimRequest {
  /** This process's lease owner id. */
  owner: string;
  /** How long a claim holds before another process may take the attempt. */
  ttlMs: number;
  /** Attempts in flight at once, all processes and receivers together. */
  globalCap: number;
  /** Attempts in flight at once to one origin, all processes together. */
  perOriginCap: number;
  /** At most this many attempts now (what the caller can start). */
  limit: number;
  /**
   * This process's attempts on the wire now, per origin. They count against
   * the caps in place of this owner's claims in the database: a claim whose
   * send has ended (its recording on the way) holds no slot any more.
   * Without it, every live claim of every process counts.
   */
  onWireHere?: ReadonlyMap<string, number>;
}

/** A due attempt, claimed: everything the pipeline needs to prepare and send it, and to record it without reading its stream. */
export interface ClaimedAttempt {
  deliveryId: string;
  workerId: string;
  taskId: string;
  /** Where the completion is in the log (`null`: look it up by task id). */
  taskPosition: number | null;
  generation: number;
  attempt: number;
  dueAt: string;
  /** The delivery stream's version the row was written at: record at it. */
  version: number;
  url: string;
  origin: string;
  /** Sealed (SPEC §7). */
  token: string;
  /** Sealed (SPEC §7). */
  signingSecret: string;
  /** Fences the recording (see the queue projection); give it back with `release` if never sent. */
  claimToken: string;
}

/** A due delivery whose webhook is gone or was replaced since: claimed so one process drops it. */
export interface OrphanedDelivery {
  deliveryId: string;
  claimToken: string;
  reason: 'webhook removed' | 'webhook replaced';
}

export interface Claim {
  attempts: ClaimedAttempt[];
  orphans: OrphanedDelivery[];
  /** Whether due attempts were left for want of a slot (the caller looks again when one frees). */
  saturated: boolean;
  /** The database's clock when the claim looked (epoch ms): what became due after it is for `nextWakeAt(…, after)`. */
  now: number;
}

type CandidateRow = {
  delivery_id: string;
  worker_id: string;
  task_id: string;
  task_position: number;
  generation: number;
  attempt: number;
  due_at: number;
  version: number;
  url: string | null;
  origin: string | null;
  token: string | null;
  signing_secret: string | null;
  webhook_generation: number | null;
};

/** Serializes claims cluster-wide on PostgreSQL (an arbitrary constant key of `pg_advisory_xact_lock`). */
const CLAIM_LOCK = 7_265_101;
/** Queries per claim at most (each leaves out the origins the previous ones filled). */
const MAX_ROUNDS = 8;
/** Rows read beyond the free slots, for the ones a full origin cannot take. */
const HEADROOM = 16;
/** Orphans claimed at once at most (each is a drop to record). */
const MAX_ORPHANS = 256;
/** Lapsed claims are purged every so many claims, once lapsed this long. */
const PURGE_EVERY = 200;
const PURGE_AFTER_MS = 60_000;

/**
 * Claims of due attempts on the delivery queue (the queue is the projection
 * of the delivery streams; the claims table beside it holds who is sending
 * what, until when; both live in this package). Inside the caller's write
 * transaction: claims are serialized (SQLite's write lock; on PostgreSQL an
 * advisory lock, so every claim sees the last one's rows, plus `FOR UPDATE
 * SKIP LOCKED` past queue rows a recording holds), the attempts in flight
 * are counted from the live claims of every process, and only what both
 * caps allow is taken, in due order. Times are the database's clock. A
 * recording releases its claim (the queue projection does it, matching the
 * token); a lapsed claim is simply replaced by the next one.
 */
export class DeliveryClaims {
  private claimsMade = 0;

  constructor(private readonly t: TableSet = LIVE_TABLES) {}

  async claim(tx: TxSql, request: ClaimRequest): Promise<Claim> {
    const { t } = this;
    if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(?)', [CLAIM_LOCK]);
    const now = Number((await tx.get<{ now: number }>(`SELECT ${nowMs(tx.dialect)} AS now`))!.now);
    const empty: Claim = { attempts: [], orphans: [], saturated: false, now };
    if (request.limit <= 0) return empty;

    const here = request.onWireHere;
    const inFlight = await tx.all<{ origin: string; n: number }>(
      `SELECT origin, COUNT(*) AS n FROM ${CLAIMS_TABLE} WHERE expires_at > ? AND origin IS NOT NULL${here ? ' AND owner <> ?' : ''} GROUP BY origin`,
      here ? [now, request.owner] : [now],
    );
    const perOrigin = new Map(inFlight.map((row) => [row.origin, Number(row.n)]));
    for (const [origin, n] of here ?? []) perOrigin.set(origin, (perOrigin.get(origin) ?? 0) + n);
    let free = request.globalCap - [...perOrigin.values()].reduce((sum, n) => sum + n, 0);
    const saturated = new Set([...perOrigin].filter(([, n]) => n >= request.perOriginCap).map(([origin]) => origin));

    const attempts: ClaimedAttempt[] = [];
    const orphans: OrphanedDelivery[] = [];
    let leftForWantOfASlot = free <= 0;
    // Rounds: each query leaves out the origins that are full, so a busy origin's backlog never hides another's due work.
    for (let round = 0; round < MAX_ROUNDS && free > 0 && attempts.length < request.limit && orphans.length < MAX_ORPHANS; round++) {
      const want = Math.min(free, request.limit - attempts.length);
      const fetch = want + HEADROOM;
      const rows = await tx.all<CandidateRow>(
        `SELECT q.delivery_id, q.worker_id, q.task_id, q.task_position, q.generation, q.attempt, q.due_at, q.version,
                w.url, w.origin, w.token, w.signing_secret, w.generation AS webhook_generation
         FROM ${t.deliveryQueue} q
         LEFT JOIN ${CLAIMS_TABLE} c ON c.delivery_id = q.delivery_id
         LEFT JOIN ${t.webhooks} w ON w.worker_id = q.worker_id
         WHERE q.due_at <= ? AND (c.delivery_id IS NULL OR c.expires_at <= ?)
           AND (w.origin IS NULL OR ${notInList(tx.dialect, 'w.origin')})
         ORDER BY q.due_at, q.delivery_id
         LIMIT ?${tx.dialect === 'postgres' ? ' FOR UPDATE OF q SKIP LOCKED' : ''}`,
        [now, now, listParam(tx.dialect, [...saturated]), fetch],
      );
      const taken: { id: string; token: string; origin: string | null }[] = [];
      for (const row of rows) {
        const claimToken = randomBytes(12).toString('base64url');
        if (row.origin === null || Number(row.webhook_generation) !== Number(row.generation)) {
          if (orphans.length >= MAX_ORPHANS) continue;
          orphans.push({ deliveryId: row.delivery_id, claimToken, reason: row.origin === null ? 'webhook removed' : 'webhook replaced' });
          taken.push({ id: row.delivery_id, token: claimToken, origin: null });
          continue;
        }
        const held = perOrigin.get(row.origin) ?? 0;
        if (free <= 0 || held >= request.perOriginCap || attempts.length >= request.limit) {
          leftForWantOfASlot = true;
          continue;
        }
        perOrigin.set(row.origin, held + 1);
        if (held + 1 >= request.perOriginCap) saturated.add(row.origin);
        free--;
        taken.push({ id: row.delivery_id, token: claimToken, origin: row.origin });
        attempts.push({
          deliveryId: row.delivery_id,
          workerId: row.worker_id,
          taskId: row.task_id,
          taskPosition: Number(row.task_position) > 0 ? Number(row.task_position) : null,
          generation: Number(row.generation),
          attempt: row.attempt,
          dueAt: new Date(Number(row.due_at)).toISOString(),
          version: row.version,
          url: row.url!,
          origin: row.origin,
          token: row.token!,
          signingSecret: row.signing_secret!,
          claimToken,
        });
      }
      // Written before the next round, so it never sees these rows again.
      if (taken.length > 0) await this.mark(tx, taken, request.owner, now + request.ttlMs);
      if (rows.length < fetch) break; // nothing more is due outside the full origins
    }
    // Claims of killed processes whose rows went since (a rebuild, a dropped worker) would only pile up.
    if (++this.claimsMade % PURGE_EVERY === 0) await tx.run(`DELETE FROM ${CLAIMS_TABLE} WHERE expires_at < ?`, [now - PURGE_AFTER_MS]);
    return { attempts, orphans, saturated: leftForWantOfASlot || free <= 0, now };
  }

  /** Writes the claims of a batch in one statement (a JSON list joined in, on both dialects); a lapsed claim is replaced. */
  private async mark(tx: TxSql, taken: readonly { id: string; token: string; origin: string | null }[], owner: string, expiresAt: number): Promise<void> {
    const rows =
      tx.dialect === 'sqlite'
        ? `SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.token') AS token, json_extract(value, '$.origin') AS origin FROM json_each(?)`
        : 'SELECT * FROM json_to_recordset(CAST(? AS json)) AS x(id text, token text, origin text)';
    await tx.run(
      `INSERT INTO ${CLAIMS_TABLE} (delivery_id, token, origin, owner, expires_at)
       SELECT v.id, v.token, v.origin, ?, ? FROM (${rows}) AS v WHERE true
       ON CONFLICT (delivery_id) DO UPDATE SET token = excluded.token, origin = excluded.origin, owner = excluded.owner, expires_at = excluded.expires_at`,
      [owner, expiresAt, JSON.stringify(taken)],
    );
  }

  /** Gives claims back unsent (a stop before the send, a send that could not start): the attempts are claimable again at once. */
  async release(sql: Sql, claimTokens: readonly string[]): Promise<void> {
    if (claimTokens.length === 0) return;
    await sql.run(`DELETE FROM ${CLAIMS_TABLE} WHERE ${inList(sql.dialect, 'token')}`, [listParam(sql.dialect, claimTokens)]);
  }

  /**
   * When work may next become claimable without any event this process
   * sees: the next due time of an unclaimed attempt, or another process's
   * claim lapsing. `null` when neither is pending. Pass `after`, the time
   * an empty claim looked (`Claim.now`): what fell due or lapsed since then
   * counts too (it is in the past: look again at once), or it would wait
   * for the next poll.
   */
  async nextWakeAt(sql: Sql, owner: string, after?: number): Promise<number | null> {
    const { t } = this;
    const since = timeOrNow(sql.dialect);
    // Only due rows are ever claimed, so a row due later is unclaimed.
    const due = await sql.get<{ at: number | null }>(`SELECT MIN(due_at) AS at FROM ${t.deliveryQueue} WHERE due_at > ${since}`, [after ?? null]);
    const lapse = await sql.get<{ at: number | null }>(`SELECT MIN(expires_at) AS at FROM ${CLAIMS_TABLE} WHERE owner <> ? AND expires_at > ${since}`, [
      owner,
      after ?? null,
    ]);
    const times = [due?.at, lapse?.at].filter((at): at is number => at !== null && at !== undefined).map(Number);
    return times.length === 0 ? null : Math.min(...times);
  }

  /** The database's clock (epoch ms), to set timers against what claims compare with. */
  async now(sql: Sql): Promise<number> {
    return Number((await sql.get<{ now: number }>(`SELECT ${nowMs(sql.dialect)} AS now`))!.now);
  }

  /** Pending deliveries (tests, diagnostics). */
  async size(sql: Sql): Promise<number> {
    return Number((await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${this.t.deliveryQueue}`))!.n);
  }
}
