import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Api, Webhook } from '../api.js';
import { ErrorNote, Secret } from '../components.js';
import { useAction } from '../hooks.js';

export interface Access {
  /** Signed in with an API key: the worker's creator. */
  creator: boolean;
  /** May operate the webhook (creator, or a portal link that is not read-only). */
  operate: boolean;
}

/** A worker's webhook: its URL (set, change, remove, for the creator) and its secrets, hidden until revealed. */
export function WebhookPanel({ api, workerId, webhook, access, onChanged, children }: { api: Api; workerId: string; webhook: Webhook; access: Access; onChanged: () => void; children?: ComponentChildren }) {
  // What the field shows: the reader's draft while they type; after a save, what was saved until the
  // polled webhook catches up (a poll answered before the save must not put the old URL back); else the webhook's.
  const [draft, setDraft] = useState<string | null>(null);
  const [saved, setSaved] = useState<{ url: string | null } | null>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);
  useEffect(() => {
    if (saved !== null && webhook.url === saved.url) setSaved(null);
  }, [webhook.url, saved]);
  const url = draft ?? (saved !== null ? saved.url : webhook.url) ?? '';

  const save = useAction(async (next: string | null) => {
    const result = await api.workers.webhooks.update.mutate({ workerId, url: next });
    setSaved({ url: result.url });
    setDraft(null);
    onChanged();
  });

  const submit = async (event: Event) => {
    event.preventDefault();
    await save.run(url.trim());
  };

  return (
    <section class="panel" aria-labelledby="webhook-heading">
      <h2 id="webhook-heading">Webhook</h2>
      {access.creator ? (
        <form class="inline-form" onSubmit={submit}>
          <label for="webhook-url">URL</label>
          <input
            id="webhook-url"
            type="url"
            required
            placeholder="https://example.com/webhooks/handinger"
            value={url}
            onInput={(event) => setDraft((event.target as HTMLInputElement).value)}
          />
          <button type="submit" disabled={save.running}>
            {webhook.url === null ? 'Set URL' : 'Save URL'}
          </button>
        </form>
      ) : (
        <div class="field">
          <span class="label">URL</span>
          {webhook.url === null ? <span class="muted">none</span> : <code class="wrap">{webhook.url}</code>}
        </div>
      )}
      <ErrorNote error={save.error} />
      {webhook.url === null ? (
        <p class="muted">No webhook is configured: nothing is sent when this worker's tasks finish.</p>
      ) : (
        <>
          <Secret label="Token" value={webhook.token} />
          <Secret label="Signing secret" value={webhook.signingSecret} />
          {children}
          {access.creator && (
            <div class="actions">
              {confirmRemove ? (
                <>
                  <span>Remove the webhook? Pending deliveries are dropped.</span>
                  <button
                    type="button"
                    class="danger"
                    onClick={async () => {
                      await save.run(null);
                      setConfirmRemove(false);
                    }}
                  >
                    Remove webhook
                  </button>
                  <button type="button" onClick={() => setConfirmRemove(false)}>
                    Cancel
                  </button>
                </>
              ) : (
                <button type="button" class="danger-outline" onClick={() => setConfirmRemove(true)}>
                  Remove…
                </button>
              )}
            </div>
          )}
        </>
      )}
    </section>
  );
}
