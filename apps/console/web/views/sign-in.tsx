import { useState } from 'preact/hooks';
import { createApi, statusOf } from '../api.js';
import { ErrorNote } from '../components.js';

/** Sign-in with an API key: checked with one call before it is kept (in this tab's sessionStorage only). */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (key: string) => void; notice: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [checking, setChecking] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) return;
    setChecking(true);
    setError(null);
    try {
      await createApi(trimmed).workers.list.query({ page: 1 });
      onSignedIn(trimmed);
    } catch (caught) {
      setError(statusOf(caught) === 401 ? new Error('This key was not accepted: it is unknown or revoked.') : caught);
    } finally {
      setChecking(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <h1>Handinger Webhooks</h1>
      <p>Sign in with a user API key to see your workers, their webhooks and every delivery attempt.</p>
      {notice && (
        <p class="note" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit} class="stack">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={key}
          onInput={(event) => setKey((event.target as HTMLInputElement).value)}
          placeholder="hwk_…"
        />
        <button type="submit" disabled={checking}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
        <ErrorNote error={error} />
      </form>
      <p class="muted small-text">The key stays in this tab only (sessionStorage) and is forgotten when you sign out or close the tab.</p>
    </main>
  );
}
