import { randomBytes } from 'node:crypto';
import { inList, listParam, nowMs, timeOrNow, type Sql, type SqlDialect, type TxSql } from '@handinger-webhooks/event-store';
import type { WebhookRow as WebhookReadModelRow } from './read-models/webhooks.js';
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
   * This process's attempts that hold or wait for a slot (on the wire, or
   * claimed and not yet sent), per origin. They count in place of this
   * owner's claims in the database: a claim whose send has ended (its
   * recording on the way) holds no slot any more. Without it, every live
   * claim of every process counts.
   */
  heldHere?: ReadonlyMap<string, number>;
  /**
   * Claim ahead: this process may hold up to twice the caps in claims (of
   * origins no other process holds claims for), so that a slot freeing is
   * filled at once from what it holds, without waiting for a claim. What it
   * may have on the wire stays within the caps: see `Claim.sendLimits`.
   */
  claimAhead?: boolean;
  /**
   * Skip the walk over the origins past a full origin's backlog: the caller
   * knows no other origin had claimable work at its last walk
   * (`Claim.idleElsewhere`), and nothing was signalled since.
   */
  skipOriginWalk?: boolean;
}

/**
 * How many attempts this process may have on the wire, until its next
 * claim: the caps less what other processes hold in claims (theirs may be
 * on the wire). Each process keeps its sends within the limits of its
 * latest claim, so the sum over processes never passes a cap.
 */
export interface SendLimits {
  global: number;
  /** Origins another process holds claims for; any other origin: the per-origin cap. */
  perOrigin: ReadonlyMap<string, number>;
  perOriginCap: number;
}

/** A due attempt, claimed: everything the pipeline needs to prepare and send it, and to record it without reading its stream. */
export interface ClaimedAttempt {
  deliveryId: string;
  workerId: string;
  /** `null` for a test notification (redelivered). */
  taskId: string | null;
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
  /** Sealed; signs too while the overlap window of a rotation is open (SPEC §8.1). */
  previousSigningSecret: string | null;
  /** Epoch ms; the window is open for attempts that start before it. */
  previousSigningSecretExpiresAt: number | null;
  /** Why this attempt is made (SPEC §8.7). */
  trigger: 'delivery' | 'retry' | 'redeliver' | 'recover' | 'enable';
  /** A single attempt, never retried (a redelivery or recovery of an ended notification). */
  oneShot: boolean;
  recoveryId: string | null;
  /** When the notification was first attempted (`null`: this is its first attempt). */
  firstAttemptedAt: string | null;
  /** Fences the recording (see the queue projection); give it back with `release` if never sent. */
  claimToken: string;
}

/** A due delivery whose webhook is gone or was replaced since: claimed so one process drops it. */
export interface OrphanedDelivery {
  deliveryId: string;
  claimToken: string;
  /** Where the queue holds it (an enable or a removal may have moved it from where its stream last put it). */
  dueAt: string;
  reason: 'webhook removed' | 'webhook replaced';
}

export interface Claim {
  attempts: ClaimedAttempt[];
  orphans: OrphanedDelivery[];
  /** Whether due attempts were left for want of a slot (the caller looks again when one frees). */
  saturated: boolean;
  sendLimits: SendLimits;
  /** Whether its walk over the origins past a full one's backlog found none other with claimable work (`null`: it did not walk). */
  idleElsewhere: boolean | null;
  /** The database's clock when the claim looked (epoch ms): what became due after it is for `nextWakeAt(…, after)`. */
  now: number;
}

/** Claim tokens: 96 random bits each, drawn in one call for a batch. */
function claimTokens(n: number): string[] {
  if (n === 0) return [];
  const bytes = randomBytes(12 * n);
  return Array.from({ length: n }, (_, i) => bytes.subarray(12 * i, 12 * i + 12).toString('base64url'));
}

function toAttempt(row: CandidateRow, webhook: WebhookRow, claimToken: string): ClaimedAttempt {
  return {
    deliveryId: row.delivery_id,
    workerId: row.worker_id,
    taskId: row.task_id,
    taskPosition: Number(row.task_position) > 0 ? Number(row.task_position) : null,
    generation: Number(row.generation),
    attempt: row.attempt,
    dueAt: new Date(Number(row.due_at)).toISOString(),
    version: row.version,
    url: webhook.url,
    origin: webhook.origin,
    token: webhook.token,
    signingSecret: webhook.signing_secret,
    previousSigningSecret: webhook.previous_signing_secret,
    previousSigningSecretExpiresAt: webhook.previous_secret_expires_at === null ? null : Date.parse(webhook.previous_secret_expires_at),
    trigger: row.trigger,
    oneShot: Number(row.one_shot) === 1,
    recoveryId: row.recovery_id,
    firstAttemptedAt: row.first_attempted_at,
    claimToken,
  };
}

/** A due queue row (its origin is the webhook's when it was scheduled). */
type CandidateRow = {
  delivery_id: string;
  worker_id: string;
  task_id: string | null;
  task_position: number;
  generation: number;
  attempt: number;
  due_at: number;
  version: number;
  origin: string | null;
  trigger: ClaimedAttempt['trigger'];
  one_shot: number;
  recovery_id: string | null;
  first_attempted_at: string | null;
};

/** The current webhook of a worker with due rows: the columns of its read-model row a claim needs. */
type WebhookRow = Pick<
  WebhookReadModelRow,
  'worker_id' | 'url' | 'origin' | 'token' | 'signing_secret' | 'generation' | 'previous_signing_secret' | 'previous_secret_expires_at'
>;

/** Serializes claims cluster-wide on PostgreSQL (an arbitrary constant key of `pg_advisory_xact_lock`). */
const CLAIM_LOCK = 7_265_101;
/** Reads in due order per claim at most, before it goes origin by origin. */
const DUE_ORDER_ROUNDS = 8;
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
 * caps allow is taken, in due order. While an origin is full, its backlog
 * is passed over without being read: the claim goes origin by origin
 * through the queue's origin index instead (a full origin with a million
 * due rows costs one seek, not a million rows). Times are the database's
 * clock. A recording releases its claim (the queue projection does it,
 * matching the token); a lapsed claim is simply replaced by the next one.
 */
export class DeliveryClaims {
  private claimsMade = 0;

  constructor(private readonly t: TableSet = LIVE_TABLES) {}

  async claim(tx: TxSql, request: ClaimRequest): Promise<Claim> {
    if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(?)', [CLAIM_LOCK]);
    const now = Number((await tx.get<{ now: number }>(`SELECT ${nowMs(tx.dialect)} AS now`))!.now);
    const here = request.heldHere;
    const others = await tx.all<{ origin: string; n: number }>(
      `SELECT origin, COUNT(*) AS n FROM ${CLAIMS_TABLE} WHERE expires_at > ? AND origin IS NOT NULL${here ? ' AND owner <> ?' : ''} GROUP BY origin`,
      here ? [now, request.owner] : [now],
    );
    const othersPerOrigin = new Map(others.map((row) => [row.origin, Number(row.n)]));
    const othersTotal = [...othersPerOrigin.values()].reduce((sum, n) => sum + n, 0);
    const sendLimits: SendLimits = {
      global: Math.max(0, request.globalCap - othersTotal),
      perOrigin: new Map([...othersPerOrigin].map(([origin, n]) => [origin, Math.max(0, request.perOriginCap - n)])),
      perOriginCap: request.perOriginCap,
    };
    if (request.limit <= 0) return { attempts: [], orphans: [], saturated: false, sendLimits, idleElsewhere: null, now };

    // Ahead only where no other process holds claims: claims shared with another stay within the caps, so each can send all it holds.
    const ahead = (n: number) => (request.claimAhead && n === 0 ? 2 : 1);
    const limitOf = (origin: string) => ahead(othersPerOrigin.get(origin) ?? 0) * request.perOriginCap;
    const perOrigin = new Map(othersPerOrigin);
    for (const [origin, n] of here ?? []) perOrigin.set(origin, (perOrigin.get(origin) ?? 0) + n);
    let free = ahead(othersTotal) * request.globalCap - [...perOrigin.values()].reduce((sum, n) => sum + n, 0);
    const saturated = new Set([...perOrigin].filter(([origin, n]) => n >= limitOf(origin)).map(([origin]) => origin));

    const attempts: ClaimedAttempt[] = [];
    const orphans: OrphanedDelivery[] = [];
    let leftForWantOfASlot = free <= 0;
    const wanted = () => free > 0 && attempts.length < request.limit && orphans.length < MAX_ORPHANS;
    /** Claims what the caps allow of candidate rows, in their order; orphans need no slot. Returns whether a row was left for want of one. */
    const take = async (rows: CandidateRow[]): Promise<boolean> => {
      let left = false;
      const webhooks = await this.webhooksOf(tx, rows);
      const taken: { id: string; token: string; origin: string | null }[] = [];
      const tokens = claimTokens(rows.length);
      rows.forEach((row, i) => {
        const claimToken = tokens[i]!;
        const webhook = webhooks.get(row.worker_id);
        if (webhook === undefined || Number(webhook.generation) !== Number(row.generation)) {
          if (orphans.length >= MAX_ORPHANS) return;
          orphans.push({ deliveryId: row.delivery_id, claimToken, dueAt: new Date(Number(row.due_at)).toISOString(), reason: webhook === undefined ? 'webhook removed' : 'webhook replaced' });
          taken.push({ id: row.delivery_id, token: claimToken, origin: null });
          return;
        }
        const held = perOrigin.get(webhook.origin) ?? 0;
        if (free <= 0 || saturated.has(webhook.origin) || attempts.length >= request.limit) {
          left = true;
          return;
        }
        perOrigin.set(webhook.origin, held + 1);
        if (held + 1 >= limitOf(webhook.origin)) saturated.add(webhook.origin);
        free--;
        taken.push({ id: row.delivery_id, token: claimToken, origin: webhook.origin });
        attempts.push(toAttempt(row, webhook, claimToken));
      });
      if (taken.length > 0) await this.mark(tx, taken, request.owner, now + request.ttlMs);
      if (left) leftForWantOfASlot = true;
      return left;
    };

    // While no origin is full: due order over every origin, in reads no larger than one origin can take.
    let overBacklog = saturated.size > 0;
    for (let round = 0; !overBacklog && round < DUE_ORDER_ROUNDS && wanted(); round++) {
      const fetch = Math.min(free, request.limit - attempts.length, ahead(0) * request.perOriginCap) + 1;
      const rows = await tx.all<CandidateRow>(`${this.candidates('')} LIMIT ?${this.skipLocked(tx.dialect)}`, [now, now, fetch]);
      const left = await take(rows);
      if (rows.length < fetch) break; // nothing more is due
      // A row left behind a full origin: the rest is read origin by origin, past that origin's backlog.
      overBacklog = left;
    }
    let idleElsewhere: boolean | null = null;
    if (overBacklog && request.skipOriginWalk) leftForWantOfASlot = true;
    else if (overBacklog && wanted()) {
      // The origins with pending deliveries (a skip-scan of the origin index: one seek per origin), earliest due first.
      const origins = await tx.all<{ origin: string | null; due: number }>(this.originsWithWork(), [now]);
      idleElsewhere = true;
      for (const { origin } of origins.sort((a, b) => Number(a.due) - Number(b.due))) {
        if (!wanted()) {
          idleElsewhere = false;
          break;
        }
        if (origin !== null && saturated.has(origin)) {
          leftForWantOfASlot = true;
          continue;
        }
        const room = origin === null ? MAX_ORPHANS - orphans.length : Math.min(free, request.limit - attempts.length, limitOf(origin) - (perOrigin.get(origin) ?? 0));
        const rows = await tx.all<CandidateRow>(
          `${this.candidates(origin === null ? 'AND q.origin IS NULL' : 'AND q.origin = ?')} LIMIT ?${this.skipLocked(tx.dialect)}`,
          origin === null ? [now, now, room + 1] : [now, now, origin, room + 1],
        );
        if (rows.length > 0) idleElsewhere = false;
        await take(rows);
      }
    }
    // Claims of killed processes whose rows went since (a rebuild, a dropped worker) would only pile up.
    if (++this.claimsMade % PURGE_EVERY === 0) await tx.run(`DELETE FROM ${CLAIMS_TABLE} WHERE expires_at < ?`, [now - PURGE_AFTER_MS]);
    return { attempts, orphans, saturated: leftForWantOfASlot || free <= 0, sendLimits, idleElsewhere, now };
  }

  /**
   * Due, unclaimed (or lapsed) queue rows, in due order;
   * `filter` narrows them to one origin (its index keeps the read to that
   * origin's rows).
   */
  private candidates(filter: string): string {
    const { t } = this;
    const order = filter === '' ? 'q.due_at, q.delivery_id' : 'q.origin, q.due_at, q.delivery_id';
    return `SELECT q.delivery_id, q.worker_id, q.task_id, q.task_position, q.generation, q.attempt, q.due_at, q.version, q.origin,
         q.trigger, q.one_shot, q.recovery_id, q.first_attempted_at
       FROM ${t.deliveryQueue} q
       LEFT JOIN ${CLAIMS_TABLE} c ON c.delivery_id = q.delivery_id
       WHERE q.due_at <= ? AND (c.delivery_id IS NULL OR c.expires_at <= ?) ${filter}
       ORDER BY ${order}`;
  }

  /** The current webhooks of the rows' workers: one read per claim round, not one join per row. */
  private async webhooksOf(tx: TxSql, rows: readonly CandidateRow[]): Promise<Map<string, WebhookRow>> {
    if (rows.length === 0) return new Map();
    const workers = [...new Set(rows.map((row) => row.worker_id))];
    const found = await tx.all<WebhookRow>(
      `SELECT worker_id, url, origin, token, signing_secret, generation, previous_signing_secret, previous_secret_expires_at FROM ${this.t.webhooks} WHERE ${inList(tx.dialect, 'worker_id')}`,
      [listParam(tx.dialect, workers)],
    );
    return new Map(found.map((webhook) => [webhook.worker_id, webhook]));
  }

  private skipLocked(dialect: SqlDialect): string {
    return dialect === 'postgres' ? ' FOR UPDATE OF q SKIP LOCKED' : '';
  }

  /**
   * Each origin with pending deliveries (and null, for deliveries scheduled
   * with no webhook) and its earliest due time, if due by the parameter: a
   * recursive skip-scan over the origin index, one seek per origin,
   * whatever the backlogs.
   */
  private originsWithWork(): string {
    const q = this.t.deliveryQueue;
    return `WITH RECURSIVE o(origin) AS (
         SELECT (SELECT MIN(origin) FROM ${q})
         UNION ALL
         SELECT (SELECT MIN(origin) FROM ${q} WHERE origin > o.origin) FROM o WHERE o.origin IS NOT NULL
       ), grouped(origin, due) AS (
         SELECT origin, (SELECT MIN(due_at) FROM ${q} WHERE origin = o.origin) FROM o WHERE origin IS NOT NULL
         UNION ALL
         SELECT NULL, (SELECT MIN(due_at) FROM ${q} WHERE origin IS NULL)
       )
       SELECT origin, due FROM grouped WHERE due <= ?`;
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

  /**
   * A slot for one attempt outside the queue (a test, SPEC §8.2), if both
   * caps have room counting every live claim: a claim row like any other,
   * so every process counts it; the attempt's recording releases it (its
   * token in the metadata), or it lapses.
   */
  async reserveSlot(tx: TxSql, request: { deliveryId: string; origin: string; owner: string; ttlMs: number; globalCap: number; perOriginCap: number }): Promise<string | null> {
    if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(?)', [CLAIM_LOCK]);
    const now = Number((await tx.get<{ now: number }>(`SELECT ${nowMs(tx.dialect)} AS now`))!.now);
    const counts = await tx.get<{ total: number; here: number }>(
      `SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN origin = ? THEN 1 ELSE 0 END), 0) AS here FROM ${CLAIMS_TABLE} WHERE expires_at > ?`,
      [request.origin, now],
    );
    if (Number(counts!.total) >= request.globalCap || Number(counts!.here) >= request.perOriginCap) return null;
    const [token] = claimTokens(1);
    await this.mark(tx, [{ id: request.deliveryId, token: token!, origin: request.origin }], request.owner, now + request.ttlMs);
    return token!;
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
