import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { createApi, refusals, statusOf } from './api.js';
import { useRoute } from './router.js';
import { forgetSession, loadSession, saveSession, takePortalFragment, type Session } from './session.js';
import { SignIn } from './views/sign-in.js';
import { WorkerPage } from './views/worker.js';
import { Workers } from './views/workers.js';

function App() {
  const [session, setSession] = useState<Session | null>(() => takePortalFragment() ?? loadSession());
  const [notice, setNotice] = useState<string | null>(null);
  const route = useRoute();
  const api = useMemo(() => (session ? createApi(session.key) : null), [session?.key]);

  const signOut = (message: string | null = null) => {
    forgetSession();
    setSession(null);
    setNotice(message);
    history.replaceState(null, '', '/console/#/');
  };

  refusals.notice = (error) => {
    if (session && statusOf(error) === 401) {
      signOut(session.kind === 'portal' ? 'This portal link has expired or was revoked.' : 'Your API key was refused (revoked?). Sign in again.');
    }
  };

  if (!session || !api) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(key) => {
          const next: Session = { kind: 'key', key };
          saveSession(next);
          setNotice(null);
          setSession(next);
        }}
      />
    );
  }

  const portal = session.kind === 'portal';
  const workerId = portal ? session.workerId : route.name === 'worker' ? route.workerId : null;
  const page = route.page;
  return (
    <>
      <a class="skip" href="#main" onClick={(event) => { event.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={portal ? `#/workers/${encodeURIComponent(session.workerId)}` : '#/'}>
          Handinger Webhooks
        </a>
        <span class="muted">{portal ? 'Portal link' : 'Console'}</span>
        <button type="button" class="small" onClick={() => signOut(portal ? 'The portal link was forgotten in this tab.' : 'Signed out.')}>
          {portal ? 'Forget link' : 'Sign out'}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {workerId ? (
          <WorkerPage api={api} workerId={workerId} page={route.name === 'worker' ? page : 1} executionId={route.name === 'worker' ? route.executionId : null} portal={portal} />
        ) : (
          <Workers api={api} page={page} />
          )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
