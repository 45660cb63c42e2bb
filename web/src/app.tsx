import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Sort } from './api';
import { SearchBox } from './components/search-box';
import { SignInDialog } from './components/sign-in';
import { Failure, Loading } from './components/status';
import { Browse, topLevel } from './pages/browse';
import { SearchPage } from './pages/search';
import { Link, useLocation, type Location } from './router';
import { currentUser, onSessionChange, signOut } from './session';
import { useAsync } from './use-async';

// The chart page carries the README renderer, the sanitizer and the diff: loaded when first
// needed, so the first page (browse, search) is a smaller download.
const loadChartPage = () => import('./pages/chart');

function LazyChartPage(props: { repository: string; query: URLSearchParams; session: number }) {
  const loaded = useAsync(() => loadChartPage(), []);
  if (loaded.state === 'loading') return <Loading />;
  if (loaded.state === 'failed') return <Failure error={loaded.error} />;
  const ChartPage = loaded.value.default;
  return <ChartPage {...props} />;
}

function Page({ location, session }: { location: Location; session: number }) {
  const { path, query } = location;
  const sort: Sort = query.get('sort') === 'updated' ? 'updated' : 'name';
  if (path === '/') return <Browse key={`all-${sort}`} namespace={undefined} sort={sort} session={session} />;
  if (path.startsWith('/namespaces/')) {
    const segment = path.slice('/namespaces/'.length).replace(/\/$/, '');
    const namespace = segment === topLevel ? '' : segment;
    return <Browse key={`${namespace}-${sort}`} namespace={namespace} sort={sort} session={session} />;
  }
  if (path === '/search') return <SearchPage q={query.get('q') ?? ''} page={Math.max(1, Number(query.get('page')) || 1)} session={session} />;
  if (path.startsWith('/charts/')) {
    return <LazyChartPage repository={path.slice('/charts/'.length).replace(/\/$/, '')} query={query} session={session} />;
  }
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Page not found
      </h1>
      <p>
        <Link href="/">Browse all charts</Link>
      </p>
    </>
  );
}

function titleOf(location: Location): string {
  if (location.path.startsWith('/charts/')) return `${location.path.slice('/charts/'.length)} · Chartroom`;
  if (location.path === '/search') return `Search: ${location.query.get('q') ?? ''} · Chartroom`;
  if (location.path.startsWith('/namespaces/')) return `${location.path.slice('/namespaces/'.length)} · Chartroom`;
  return 'Chartroom';
}

/** Who is signed in, and the buttons to change it; nothing when access control is off. */
function Account({ session, onSignIn }: { session: number; onSignIn: () => void }) {
  const me = useAsync((signal) => api.me(signal), [session]);
  if (me.state !== 'done' || !me.value.auth) return null;
  const user = currentUser();
  return user ? (
    <div class="account">
      <span>
        Signed in as <strong>{user}</strong>
      </span>
      <button type="button" class="secondary" onClick={signOut}>
        Sign out
      </button>
    </div>
  ) : (
    <div class="account">
      <button type="button" onClick={onSignIn}>
        Sign in
      </button>
    </div>
  );
}

export function App() {
  const location = useLocation();
  // Bumped on sign-in and sign-out: every view loads again as the new caller.
  const [session, setSession] = useState(0);
  const [signingIn, setSigningIn] = useState(false);
  const main = useRef<HTMLElement>(null);
  const initial = useRef(true);

  useEffect(() => onSessionChange(() => setSession((n) => n + 1)), []);

  useEffect(() => {
    document.title = titleOf(location);
  }, [location]);

  // A new page: start at its top, and move the focus there (screen readers announce it).
  useEffect(() => {
    if (initial.current) {
      initial.current = false;
      return;
    }
    window.scrollTo(0, 0);
    main.current?.focus({ preventScroll: true });
  }, [location.path]);

  const query = location.path === '/search' ? (location.query.get('q') ?? '') : '';
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand">
          Chartroom
        </Link>
        <SearchBox query={query} />
        <Account session={session} onSignIn={() => setSigningIn(true)} />
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page location={location} session={session} />
      </main>
      <SignInDialog open={signingIn} onClose={() => setSigningIn(false)} />
    </>
  );
}
