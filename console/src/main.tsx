import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, storedKey, storeKey, whenUnauthenticated } from './api';
import { href, useLocation } from './router';
import { ErrorLine } from './ui';
import { Automations, RunDetail } from './views/automations';
import { Connections } from './views/connections';
import { JobDetail, Jobs } from './views/jobs';
import { Overview } from './views/overview';
import { Webhooks } from './views/webhooks';
import './style.css';

const VIEWS = [
  { path: '', label: 'Overview' },
  { path: 'jobs', label: 'Queue & jobs' },
  { path: 'connections', label: 'Connections & syncs' },
  { path: 'webhooks', label: 'Webhooks' },
  { path: 'automations', label: 'Automations' },
] as const;

function App() {
  const [key, setKey] = useState(storedKey);
  const [signedOutBecause, setSignedOutBecause] = useState<string>();
  useEffect(() =>
    whenUnauthenticated(() => {
      storeKey(null);
      setKey(null);
      setSignedOutBecause('The API refused the key: sign in again.');
    }),
  []);
  if (!key) {
    return (
      <SignIn
        notice={signedOutBecause}
        onSignedIn={(accepted) => {
          storeKey(accepted);
          setSignedOutBecause(undefined);
          setKey(accepted);
        }}
      />
    );
  }
  return (
    <Shell
      signOut={() => {
        storeKey(null);
        setKey(null);
      }}
    />
  );
}

function SignIn({ onSignedIn, notice }: { onSignedIn: (key: string) => void; notice?: string }) {
  const [error, setError] = useState<string | undefined>(notice);
  const [busy, setBusy] = useState(false);
  return (
    <main class="signin">
      <form
        class="panel"
        onSubmit={async (event) => {
          event.preventDefault();
          const key = String(new FormData(event.currentTarget).get('key') ?? '').trim();
          if (!key) return setError('Enter the admin key.');
          setBusy(true);
          setError(undefined);
          try {
            // The key is checked against an admin endpoint before it is kept.
            await api('/api/admin/summary', { key });
            onSignedIn(key);
          } catch (caught) {
            const failure = caught as ApiError;
            setError(failure.status === 401 ? 'That is not the admin key.' : failure.message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1>switchyard console</h1>
        <p class="muted">Sign in with the deployment's <code>ADMIN_API_KEY</code>. It is kept in this tab's session storage only.</p>
        <label>
          Admin key
          <input name="key" type="password" autocomplete="current-password" autofocus required />
        </label>
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Checking…' : 'Sign in'}</button>
        <ErrorLine error={error} />
      </form>
    </main>
  );
}

function Shell({ signOut }: { signOut: () => void }) {
  const where = useLocation();
  const [section = '', id] = where.path;
  useEffect(() => {
    const view = VIEWS.find((entry) => entry.path === (section === 'runs' ? 'automations' : section));
    document.title = `${view?.label ?? 'Not found'} · switchyard console`;
  }, [section]);
  let content;
  if (section === '') content = <Overview />;
  else if (section === 'jobs') content = id ? <JobDetail id={id} /> : <Jobs where={where} />;
  else if (section === 'connections') content = <Connections where={where} />;
  else if (section === 'webhooks') content = <Webhooks where={where} />;
  else if (section === 'automations') content = <Automations where={where} />;
  else if (section === 'runs' && id) content = <RunDetail id={id} />;
  else content = <ErrorLine error={`No view at #/${where.path.join('/')}`} />;
  const current = section === 'runs' ? 'automations' : section;
  return (
    <>
      <header class="top">
        <span class="brand">switchyard</span>
        <nav>
          {VIEWS.map((view) => (
            <a key={view.path} href={href(view.path)} aria-current={current === view.path ? 'page' : undefined}>
              {view.label}
            </a>
          ))}
        </nav>
        <button type="button" class="link" onClick={signOut}>Sign out</button>
      </header>
      <main>{content}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
