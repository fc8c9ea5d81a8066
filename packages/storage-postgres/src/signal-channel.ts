import pg from 'pg';

/** The one NOTIFY channel of the service; the payload names the signal. */
const CHANNEL = 'handinger_webhooks';
const RECONNECT_MS = 1_000;

/**
 * Commit signals across processes. In this process listeners are called at
 * once; other processes hear it through LISTEN/NOTIFY, sent after the
 * commit (never inside the transaction: NOTIFY takes a database-wide lock
 * at commit) and coalesced (one NOTIFY in flight per signal; signals raised
 * meanwhile are sent once more after it). Only a hint: listeners also poll,
 * and a lost notification (a reconnect) only delays work until the next poll.
 */
export class SignalChannel {
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly sending = new Set<string>();
  private readonly again = new Set<string>();
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private notifier: pg.Client | null = null;

  constructor(private readonly config: pg.ClientConfig) {}

  /** Listens to `signal`; `localOnly` ones (never notified across processes) need no LISTEN connection. */
  listen(signal: string, listener: () => void, localOnly = false): () => void {
    let set = this.listeners.get(signal);
    if (set === undefined) this.listeners.set(signal, (set = new Set()));
    set.add(listener);
    if (!localOnly) void this.ensureListening();
    return () => set.delete(listener);
  }

  /** After a commit in this process: local listeners now, other processes by NOTIFY. */
  raise(signals: ReadonlySet<string>): void {
    for (const signal of signals) {
      this.dispatch(signal);
      void this.notify(signal);
    }
  }

  /** A signal for this process's listeners only (no NOTIFY). */
  raiseHere(signal: string): void {
    this.dispatch(signal);
  }

  private dispatch(signal: string): void {
    for (const listener of this.listeners.get(signal) ?? []) listener();
  }

  private async notify(signal: string): Promise<void> {
    if (this.closed) return;
    if (this.sending.has(signal)) {
      this.again.add(signal);
      return;
    }
    this.sending.add(signal);
    try {
      if (this.notifier === null) {
        const client = new pg.Client(this.config);
        client.on('error', () => {
          if (this.notifier === client) this.notifier = null;
        });
        await client.connect();
        this.notifier = client;
      }
      await this.notifier.query('SELECT pg_notify($1, $2)', [CHANNEL, signal]);
    } catch {
      // A hint only: the other processes poll.
      this.notifier?.end().catch(() => {});
      this.notifier = null;
    } finally {
      this.sending.delete(signal);
      if (this.again.delete(signal)) void this.notify(signal);
    }
  }

  private ensureListening(): Promise<void> {
    if (this.closed || this.client !== null) return Promise.resolve();
    this.connecting ??= (async () => {
      const client = new pg.Client(this.config);
      client.on('notification', (message) => {
        if (message.channel === CHANNEL && message.payload) this.dispatch(message.payload);
      });
      client.on('error', () => this.reconnectLater(client));
      client.on('end', () => this.reconnectLater(client));
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANNEL}`);
        if (this.closed) await client.end();
        else this.client = client;
      } catch {
        this.reconnectLater(client);
      } finally {
        this.connecting = null;
      }
    })();
    return this.connecting;
  }

  private reconnectLater(client: pg.Client): void {
    if (this.client === client) this.client = null;
    client.end().catch(() => {});
    if (this.closed || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Anything signalled while deaf is found by the listeners' polling; tell them to look now.
      for (const signal of this.listeners.keys()) this.dispatch(signal);
      void this.ensureListening();
    }, RECONNECT_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.all([this.client?.end().catch(() => {}), this.notifier?.end().catch(() => {}), this.connecting]);
    this.client = null;
    this.notifier = null;
  }
}
