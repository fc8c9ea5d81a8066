import type { Application } from '@handinger-webhooks/commands';
import { RECOVERY_SIGNAL } from '@handinger-webhooks/projections';

/**
 * Runs the recoveries of SPEC §8.4 to the end of their scheduling, in every
 * delivery process: each pass takes every recovery still resending and
 * advances it batch by batch (`Commands.advanceRecovery`: one transaction
 * each, under a lock on the recovery, its progress in the read models), so
 * a process killed mid-way leaves the rest to the next pass of any
 * process. The resends are ordinary queue rows: the delivery loop sends
 * them within the caps. A pass starts when a recovery starts (its signal),
 * and at every `intervalMs` in case that signal came from a process that
 * died before this one listened.
 */
export class RecoveryRunner {
  /** The pass running, if any. */
  private current: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly app: Application,
    intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.unsubscribe = app.database.onSignal(RECOVERY_SIGNAL, () => this.kick());
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
    this.kick();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.current !== null) {
      this.again = true;
      return;
    }
    this.current = this.pass().finally(() => {
      this.current = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async pass(): Promise<void> {
    try {
      for (const recovery of await this.app.readModels.recoveriesScheduling()) {
        while (!this.stopped && !(await this.app.commands.advanceRecovery(recovery.id)));
      }
    } catch (error) {
      this.onError(error);
    }
  }

  /** Stops starting batches (a batch running commits or rolls back on its own). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe();
    await this.current;
  }
}
