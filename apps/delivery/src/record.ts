import type { AttemptOutcomeRecord, Commands, RecordedAttempt } from '@handinger-webhooks/commands';
import type { IdGenerator } from '@handinger-webhooks/contracts';
import type { AttemptOutcome } from './outcome.js';
import type { PreparedAttempt } from './prepare.js';

/** One send, over: what went out and what came back. */
export interface SentAttempt {
  prepared: PreparedAttempt;
  outcome: AttemptOutcome;
  durationMs: number;
}

/** A send and what recording it decided (or why it could not be recorded). */
export type RecordingResult = { sent: SentAttempt } & ({ ok: true; decision: RecordedAttempt } | { ok: false; error: unknown });

/**
 * The record stage: sends that ended in the same turn of the event loop are
 * recorded together, in one transaction (`Commands.recordAttempts`), sorted
 * by worker so concurrent batches take per-worker locks in one order. At
 * most one batch is being written at a time; what ends meanwhile waits for
 * the next. `onRecorded` hears each batch's results once they are durable
 * (or failed as a whole).
 */
export class RecordStage {
  private pending: SentAttempt[] = [];
  private writing = false;
  private scheduled = false;
  /** Sends handed over and not yet reported. */
  private open = 0;

  constructor(
    private readonly commands: Commands,
    private readonly ids: IdGenerator,
    private readonly retryScheduleMs: readonly number[],
    private readonly onRecorded: (results: RecordingResult[]) => void,
    private readonly maxBatch = 256,
  ) {}

  /** Sends handed over and not yet reported back. */
  get backlog(): number {
    return this.open;
  }

  add(sent: SentAttempt): void {
    this.open++;
    this.pending.push(sent);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.writing || this.pending.length === 0) return;
    this.writing = true;
    const batch = this.pending.splice(0, this.maxBatch).sort((a, b) => (a.prepared.claim.workerId < b.prepared.claim.workerId ? -1 : a.prepared.claim.workerId > b.prepared.claim.workerId ? 1 : 0));
    let results: RecordingResult[];
    try {
      const decisions = await this.commands.recordAttempts(batch.map((sent) => this.recordOf(sent)));
      results = batch.map((sent, i) => ({ sent, ok: true, decision: decisions[i]! }));
    } catch (error) {
      results = batch.map((sent) => ({ sent, ok: false, error }));
    } finally {
      this.writing = false;
    }
    this.open -= batch.length;
    this.onRecorded(results);
    if (this.pending.length > 0) this.schedule();
  }

  private recordOf({ prepared, outcome, durationMs }: SentAttempt): AttemptOutcomeRecord {
    return {
      claim: prepared.claim,
      executionId: this.ids.executionId(),
      startedAt: new Date(prepared.startedAtMs).toISOString(),
      durationMs,
      url: prepared.url,
      responseStatus: outcome.responseStatus,
      transportError: outcome.transportError,
      taskTitle: prepared.taskTitle,
      retryScheduleMs: this.retryScheduleMs,
    };
  }
}
