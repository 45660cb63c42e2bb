import type { ComponentChildren } from 'preact';
import { ago, dateTime } from '../format';
import { Link } from '../router';
import type { SearchResult } from '../types';
import { ChartIcon } from './chart-icon';
import { chartHref } from './search-box';

export type CardChart = Pick<SearchResult, 'repository' | 'name' | 'icon' | 'version' | 'appVersion' | 'updated' | 'deprecated'>;

/**
 * One chart in a list: the link is its name, so a screen reader's list of links reads well.
 * The description comes as children (plain, or with search highlights); `extra` goes below it.
 */
export function ChartCard({ chart, children, extra }: { chart: CardChart; children?: ComponentChildren; extra?: ComponentChildren }) {
  return (
    <li class="card">
      <ChartIcon name={chart.name} icon={chart.icon} />
      <div class="card-body">
        <h3 class="card-title">
          <Link href={chartHref(chart.repository)}>{chart.name}</Link>
          {chart.deprecated ? <span class="badge badge-warn">deprecated</span> : null}
        </h3>
        <p class="card-meta">
          <span class="repository">{chart.repository}</span> · <span class="version">{chart.version}</span>
          {chart.appVersion ? <span> · app {chart.appVersion}</span> : null} ·{' '}
          <time dateTime={chart.updated} title={dateTime(chart.updated)}>
            {ago(chart.updated)}
          </time>
        </p>
        {children ? <p class="card-description">{children}</p> : null}
        {extra}
      </div>
    </li>
  );
}
