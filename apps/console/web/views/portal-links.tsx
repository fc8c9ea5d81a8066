import { useState } from 'preact/hooks';
import type { Api, PortalLink } from '../api.js';
import { CopyButton, ErrorNote, Time } from '../components.js';
import { useAction } from '../hooks.js';

const LIFETIMES = [
  { seconds: 900, label: '15 minutes' },
  { seconds: 3_600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
];

/** SPEC §9.1: a link to this webhook's console view, for someone without a key or for an iframe. */
export function PortalLinks({ api, workerId }: { api: Api; workerId: string }) {
  const [expiresInSeconds, setExpires] = useState(900);
  const [readOnly, setReadOnly] = useState(true);
  const create = useAction((): Promise<PortalLink> => api.workers.webhooks.createPortalSession.mutate({ workerId, expiresInSeconds, readOnly }));

  return (
    <section class="panel" aria-labelledby="portal-heading">
      <h2 id="portal-heading">Portal link</h2>
      <p class="muted">A link to this webhook's log for someone without an API key, or to embed in an iframe of your app. It expires; removing the webhook ends it.</p>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void create.run();
        }}
      >
        <label for="portal-lifetime">Expires after</label>
        <select id="portal-lifetime" value={String(expiresInSeconds)} onChange={(event) => setExpires(Number((event.target as HTMLSelectElement).value))}>
          {LIFETIMES.map((lifetime) => (
            <option value={String(lifetime.seconds)}>{lifetime.label}</option>
          ))}
        </select>
        <label class="check">
          <input type="checkbox" checked={readOnly} onChange={(event) => setReadOnly((event.target as HTMLInputElement).checked)} /> Read-only
        </label>
        <button type="submit" disabled={create.running}>
          Create link
        </button>
      </form>
      <ErrorNote error={create.error} />
      {create.result && (
        <div class="field">
          <span class="label">Link</span>
          <input class="wrap" readOnly aria-label="Portal link" value={create.result.url} onFocus={(event) => (event.target as HTMLInputElement).select()} />
          <CopyButton text={create.result.url} label="portal link" />
          <span class="muted">
            until <Time iso={create.result.expiresAt} />
          </span>
        </div>
      )}
    </section>
  );
}
