import { api } from '../api';
import { ChartCard } from '../components/chart-card';
import { Highlighted } from '../components/highlighted';
import { Failure, Loading } from '../components/status';
import { Link, withQuery } from '../router';
import { useAsync } from '../use-async';

const perPage = 20;

/** Every result of a search, with where the words matched, a page at a time. */
export function SearchPage({ q, page, session }: { q: string; page: number; session: number }) {
  const found = useAsync((signal) => api.search(q, page, perPage, signal), [q, page, session]);
  const pageHref = (n: number): string => withQuery('/search', { q, page: n > 1 ? String(n) : undefined });
  return (
    <section class="search-page" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {q ? `Charts matching “${q}”` : 'All charts'}
      </h1>
      {found.state === 'loading' ? <Loading what="Searching…" /> : null}
      {found.state === 'failed' ? <Failure error={found.error} /> : null}
      {found.state === 'done' ? (
        <>
          <p class="list-count">
            {found.value.total === 1 ? '1 chart' : `${found.value.total} charts`}
            {found.value.fuzzy ? ' with a similar name (nothing matched as typed)' : ''}
          </p>
          <ul class="cards">
            {found.value.results.map((hit) => (
              <ChartCard
                key={hit.repository}
                chart={hit}
                extra={
                  hit.highlights.readme ? (
                    <p class="excerpt">
                      README: <Highlighted html={hit.highlights.readme} />
                    </p>
                  ) : null
                }
              >
                {hit.highlights.description ? <Highlighted html={hit.highlights.description} /> : hit.description}
              </ChartCard>
            ))}
          </ul>
          <nav class="pager" aria-label="Result pages">
            {page > 1 ? <Link href={pageHref(page - 1)}>← Previous</Link> : null}
            {page * perPage < found.value.total ? <Link href={pageHref(page + 1)}>Next →</Link> : null}
          </nav>
        </>
      ) : null}
    </section>
  );
}
