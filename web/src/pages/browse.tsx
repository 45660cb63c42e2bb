import { useState } from 'preact/hooks';
import { api, type Sort } from '../api';
import { ChartCard } from '../components/chart-card';
import { Failure, Loading } from '../components/status';
import { Link, withQuery } from '../router';
import type { ChartSummary } from '../types';
import { useAsync, type Async } from '../use-async';

/** The path segment for charts at the top level (no namespace): '-' is no valid namespace. */
export const topLevel = '-';

const namespaceHref = (namespace: string): string => `/namespaces/${namespace === '' ? topLevel : namespace}`;
const namespaceLabel = (namespace: string): string => (namespace === '' ? '(top level)' : namespace);

/** How many charts a list shows at first, and adds per "Show more": a long list costs the first paint. */
const pageSize = 60;

function Namespaces({ current, session }: { current: string | undefined; session: number }) {
  const found = useAsync((signal) => api.namespaces(signal), [session]);
  return (
    <nav class="namespaces" aria-label="Namespaces">
      <h2>Namespaces</h2>
      {found.state === 'failed' ? <Failure error={found.error} /> : null}
      <ul>
        <li>
          <Link href="/" aria-current={current === undefined ? 'page' : undefined}>
            All charts
          </Link>
        </li>
        {found.state === 'done'
          ? found.value.map(({ namespace, charts }) => (
              <li key={namespace}>
                <Link href={namespaceHref(namespace)} aria-current={current === namespace ? 'page' : undefined}>
                  {namespaceLabel(namespace)} <span class="count">{charts}</span>
                </Link>
              </li>
            ))
          : null}
      </ul>
    </nav>
  );
}

/** The home page and a namespace's page: charts sorted by name or by last push, a page at a time. */
export function Browse({ namespace, sort, session }: { namespace: string | undefined; sort: Sort; session: number }) {
  const first = useAsync((signal) => api.charts(namespace, sort, 0, pageSize, signal), [namespace, sort, session]);
  const [more, setMore] = useState<ChartSummary[]>([]);
  const [loadingMore, setLoadingMore] = useState<Async<null> | undefined>(undefined);
  const here = namespace === undefined ? '/' : namespaceHref(namespace);
  const title = namespace === undefined ? 'All charts' : `Namespace ${namespaceLabel(namespace)}`;
  const shown = first.state === 'done' ? [...first.value.charts, ...more] : [];
  const total = first.state === 'done' ? first.value.total : 0;
  const showMore = (): void => {
    setLoadingMore({ state: 'loading' });
    api.charts(namespace, sort, shown.length, pageSize * 2).then(
      (page) => {
        setMore([...more, ...page.charts]);
        setLoadingMore(undefined);
      },
      (error: Error) => setLoadingMore({ state: 'failed', error }),
    );
  };
  return (
    <div class="browse">
      <Namespaces current={namespace} session={session} />
      <section class="chart-list" aria-labelledby="page-title">
        <div class="list-head">
          <h1 id="page-title" tabIndex={-1}>
            {title}
          </h1>
          <div class="sort" role="group" aria-label="Sort by">
            <span>Sort by</span>
            <Link href={here} aria-current={sort === 'name' ? 'true' : undefined}>
              Name
            </Link>
            <Link href={withQuery(here, { sort: 'updated' })} aria-current={sort === 'updated' ? 'true' : undefined}>
              Last push
            </Link>
          </div>
        </div>
        {first.state === 'loading' ? <Loading /> : null}
        {first.state === 'failed' ? <Failure error={first.error} /> : null}
        {first.state === 'done' ? (
          <>
            <p class="list-count">{total === 1 ? '1 chart' : `${total} charts`}</p>
            {total === 0 ? (
              <p>
                No charts here yet. Push one with <code>helm push</code>.
              </p>
            ) : null}
            <ul class="cards">
              {shown.map((chart) => (
                <ChartCard key={chart.repository} chart={{ ...chart, version: chart.latestVersion }}>
                  {chart.description}
                </ChartCard>
              ))}
            </ul>
            {loadingMore?.state === 'failed' ? <Failure error={loadingMore.error} /> : null}
            {total > shown.length ? (
              <button type="button" class="more" onClick={showMore} disabled={loadingMore?.state === 'loading'}>
                Show more ({total - shown.length} left)
              </button>
            ) : null}
          </>
        ) : null}
      </section>
    </div>
  );
}
