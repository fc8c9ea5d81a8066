import { useState } from 'preact/hooks';
import type { Api, Execution, Recovery, TestResult, Webhook } from '../api.js';
import { ErrorNote, StatusBadge, Time } from '../components.js';
import { POLL_INTERVAL_MS, useAction, useLoad } from '../hooks.js';

/** SPEC §8.1's overlap choice: how long the previous signing secret keeps signing after a rotation. */
const OVERLAPS = [
  { seconds: 0, label: 'No overlap (the old secret stops at once)' },
  { seconds: 3_600, label: 'Keep the old secret for 1 hour' },
  { seconds: 86_400, label: 'Keep the old secret for 24 hours' },
  { seconds: 604_800, label: 'Keep the old secret for 7 days' },
];

const VERDICTS: Record<TestResult['signatureVerification'], { text: string; tone: 'ok' | 'error' | '' }> = {
  verified: { text: 'Your receiver rejected a request with a forged signature: it verifies signatures.', tone: 'ok' },
  'not-verified': { text: 'Your receiver accepted a request with a forged signature: it does not verify signatures.', tone: 'error' },
  'not-checked': { text: 'Signature verification was not checked.', tone: '' },
};

/** Status (active / disabled, why, since when, held count), disable / enable, rotate, and a test (SPEC §8.1, §8.2, §8.5). */
export function WebhookOperations({ api, workerId, webhook, onChanged }: { api: Api; workerId: string; webhook: Webhook; onChanged: () => void }) {
  const [overlap, setOverlap] = useState(0);
  const [confirmRotate, setConfirmRotate] = useState(false);
  const [checkSignature, setCheckSignature] = useState(true);
  const toggle = useAction(async (enable: boolean) => {
    await (enable ? api.workers.webhooks.enable.mutate({ workerId }) : api.workers.webhooks.disable.mutate({ workerId }));
    onChanged();
  });
  const rotate = useAction(async () => {
    const rotated = await api.workers.webhooks.regenerateToken.mutate({ workerId, gracePeriodSeconds: overlap });
    onChanged();
    return rotated;
  });
  const test = useAction(() => api.workers.webhooks.sendTest.mutate({ workerId, checkSignatureVerification: checkSignature }));
  const disabled = webhook.status === 'disabled';

  return (
    <div class="operations">
      <div class="field" data-testid="webhook-status">
        <span class="label">Status</span>
        {disabled ? <span class="badge disabled">Disabled</span> : <span class="badge success">Active</span>}
        {disabled && (
          <span>
            {webhook.disabledReason === 'failing' ? 'after failing for too long' : 'by hand'}, since <Time iso={webhook.disabledAt} />
          </span>
        )}
        <span class="muted" data-testid="held-count">
          {webhook.heldNotifications} held
        </span>
        <button type="button" class={disabled ? undefined : 'secondary'} disabled={toggle.running} onClick={() => void toggle.run(disabled)}>
          {disabled ? 'Enable' : 'Disable'}
        </button>
      </div>
      <ErrorNote error={toggle.error} />

      <div class="field">
        <span class="label">Rotate</span>
        <label class="visually-hidden" for="rotate-overlap">
          Overlap
        </label>
        <select id="rotate-overlap" value={String(overlap)} onChange={(event) => setOverlap(Number((event.target as HTMLSelectElement).value))}>
          {OVERLAPS.map((choice) => (
            <option value={String(choice.seconds)}>{choice.label}</option>
          ))}
        </select>
        {confirmRotate ? (
          <>
            <button
              type="button"
              class="danger"
              disabled={rotate.running}
              onClick={async () => {
                await rotate.run();
                setConfirmRotate(false);
              }}
            >
              Rotate now
            </button>
            <button type="button" class="secondary" onClick={() => setConfirmRotate(false)}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" class="secondary" onClick={() => setConfirmRotate(true)}>
            Rotate secrets…
          </button>
        )}
      </div>
      {webhook.previousSigningSecretExpiresAt && (
        <p class="muted" data-testid="overlap">
          The previous signing secret also signs until <Time iso={webhook.previousSigningSecretExpiresAt} />.
        </p>
      )}
      <ErrorNote error={rotate.error} />

      <div class="field">
        <span class="label">Test</span>
        <label class="check">
          <input type="checkbox" checked={checkSignature} onChange={(event) => setCheckSignature((event.target as HTMLInputElement).checked)} /> Check that the receiver rejects forged signatures
        </label>
        <button type="button" class="secondary" disabled={test.running} onClick={() => void test.run()}>
          {test.running ? 'Sending…' : 'Send test'}
        </button>
      </div>
      <ErrorNote error={test.error} />
      {test.result && (
        <div class="test-result" data-testid="test-result" role="status">
          <p>
            <StatusBadge status={test.result.execution.requestStatus} /> {test.result.execution.responseStatus ?? '—'} in {test.result.execution.durationMs} ms
            {test.result.execution.errorMessage ? ` · ${test.result.execution.errorMessage}` : ''}
          </p>
          <p class={`note ${VERDICTS[test.result.signatureVerification].tone}`} data-verdict={test.result.signatureVerification}>
            {VERDICTS[test.result.signatureVerification].text}
          </p>
        </div>
      )}
    </div>
  );
}

/** "Redeliver" on a row: the same notification once more (SPEC §8.3). */
export function RedeliverButton({ api, workerId, execution }: { api: Api; workerId: string; execution: Execution }) {
  const redeliver = useAction(() => api.workers.webhooks.redeliver.mutate({ workerId, executionId: execution.id }));
  return (
    <span class="row-action">
      <button type="button" class="small" disabled={redeliver.running || redeliver.result !== null} onClick={() => void redeliver.run()} aria-label={`Redeliver the attempt at ${execution.createdAt}`}>
        {redeliver.result ? 'Queued' : 'Redeliver'}
      </button>
      <ErrorNote error={redeliver.error} />
    </span>
  );
}

/** A `datetime-local` value for `ms` in the reader's time zone. */
const localInput = (ms: number): string => {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
};

/** "Recover failed since …": a dry run's count first, then (confirmed) the recovery and its progress (SPEC §8.4). */
export function RecoverPanel({ api, workerId }: { api: Api; workerId: string }) {
  const [since, setSince] = useState(() => localInput(Date.now() - 24 * 3_600_000));
  const count = useAction((sinceIso: string) => api.workers.webhooks.recover.mutate({ workerId, since: sinceIso, dryRun: true }));
  const start = useAction((sinceIso: string, untilIso: string) => api.workers.webhooks.recover.mutate({ workerId, since: sinceIso, until: untilIso }));
  const sinceIso = (): string => new Date(since).toISOString();

  return (
    <section class="panel" aria-labelledby="recover-heading">
      <h2 id="recover-heading">Recover failed deliveries</h2>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          start.reset();
          void count.run(sinceIso());
        }}
      >
        <label for="recover-since">Recover failed since</label>
        <input id="recover-since" type="datetime-local" required value={since} onInput={(event) => setSince((event.target as HTMLInputElement).value)} />
        <button type="submit" class="secondary" disabled={count.running}>
          Count
        </button>
      </form>
      <ErrorNote error={count.error} />
      {count.result && !start.result && (
        <div class="field" data-testid="recover-dry-run" role="status">
          <span>
            {count.result.total === 0
              ? 'No failed notifications in that range.'
              : `${count.result.total} failed notification${count.result.total === 1 ? '' : 's'} would be sent again.`}
          </span>
          {count.result.total > 0 && (
            <>
              <button type="button" disabled={start.running} onClick={() => void start.run(count.result!.since, count.result!.until)}>
                Send {count.result.total} again
              </button>
              <button type="button" class="secondary" onClick={() => count.reset()}>
                Cancel
              </button>
            </>
          )}
        </div>
      )}
      <ErrorNote error={start.error} />
      {start.result && start.result.id && <RecoveryProgress api={api} workerId={workerId} initial={start.result} />}
    </section>
  );
}

function RecoveryProgress({ api, workerId, initial }: { api: Api; workerId: string; initial: Recovery }) {
  const [state] = useLoad<Recovery>(
    async () => (initial.status === 'completed' ? initial : api.workers.webhooks.getRecovery.query({ workerId, recoveryId: initial.id! })),
    [api, workerId, initial.id],
    POLL_INTERVAL_MS,
  );
  const recovery = state.status === 'ready' ? state.value : initial;
  return (
    <p class={`note ${recovery.status === 'completed' ? 'ok' : ''}`} data-testid="recovery-progress" role="status">
      {recovery.status === 'completed' ? `Recovery complete: ${recovery.sent} of ${recovery.total} sent.` : `Recovering: ${recovery.sent} of ${recovery.total} sent…`}
    </p>
  );
}
