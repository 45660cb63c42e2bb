import { Fragment, type ComponentChildren, type JSX } from 'preact';
import { api, type ChartFile } from '../api';
import { ChartIcon } from '../components/chart-icon';
import { CopyCommand } from '../components/copy-button';
import { DataTable } from '../components/data-table';
import { Markdown } from '../components/markdown';
import { SchemaView } from '../components/schema-view';
import { Failure, Loading } from '../components/status';
import { ValuesDiff } from '../components/values-diff';
import { YamlView } from '../components/yaml-view';
import { bytes, dateTime } from '../format';
import { Link, navigate, withQuery } from '../router';
import type { ChartDetail, VersionDetail, VersionSummary } from '../types';
import { useAsync } from '../use-async';
import { topLevel } from './browse';

type Tab = 'readme' | 'values' | 'schema' | 'versions' | 'compare';

interface ChartPageProps {
  repository: string;
  query: URLSearchParams;
  session: number;
}

interface Place {
  repository: string;
  version: string;
  latest: string;
}

/** A link within the chart's page; the latest version and the README tab are the defaults, left out of the URL. */
function href(place: Place, params: { version?: string; tab?: Tab; from?: string; to?: string }): string {
  const version = params.version ?? place.version;
  return withQuery(`/charts/${place.repository}`, {
    version: version === place.latest ? undefined : version,
    tab: params.tab === 'readme' ? undefined : params.tab,
    from: params.from,
    to: params.to,
  });
}

/** Links a chart author wrote go out only as web or mail links. */
const safeUrl = (url: string | undefined): string | undefined => (url && /^(https?:|mailto:)/i.test(url) ? url : undefined);

/** The text of a README, values.yaml or schema; `render` draws it. */
function ChartText({ place, which, session, render }: { place: Place; which: ChartFile; session: number; render: (text: string) => JSX.Element }) {
  const text = useAsync((signal) => api.file(place.repository, place.version, which, signal), [place.repository, place.version, which, session]);
  if (text.state === 'loading') return <Loading />;
  if (text.state === 'failed') return <Failure error={text.error} />;
  return render(text.value);
}

/** A titled box in the chart page's side column. */
function Panel({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section class="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}

function Install({ detail }: { detail: VersionDetail }) {
  // Helm 4 wants --plain-http for a registry without TLS (Helm 3 takes it too).
  const plain = window.location.protocol === 'http:' ? ' --plain-http' : '';
  const name = detail.metadata.name;
  const alias = detail.namespace || 'chartroom';
  const repoUrl = `${window.location.origin}/chartrepo${detail.namespace ? `/${detail.namespace}` : ''}`;
  return (
    <Panel id="install" title="Install">
      <CopyCommand label="helm pull" command={`helm pull ${detail.oci} --version ${detail.version}${plain}`} />
      <CopyCommand label="helm install" command={`helm install ${name} ${detail.oci} --version ${detail.version}${plain}`} />
      <CopyCommand label="helm repo add" command={`helm repo add ${alias} ${repoUrl}`} />
    </Panel>
  );
}

function Provenance({ detail }: { detail: VersionDetail }) {
  return detail.provenance ? (
    <a class="badge badge-good" href={`${detail.file}.prov`} title="This version was pushed with a provenance file (helm package --sign); verify it with helm pull --verify">
      ✓ Signed (provenance)
    </a>
  ) : (
    <span class="badge" title="No provenance file was pushed with this version">
      No provenance
    </span>
  );
}

function Details({ detail }: { detail: VersionDetail }) {
  const meta = detail.metadata;
  const home = safeUrl(meta.home);
  const sources = (meta.sources ?? []).map(safeUrl).filter((url): url is string => url !== undefined);
  const all: [string, ComponentChildren][] = [
    ['Version', detail.version],
    ['App version', meta.appVersion],
    ['Pushed', <time dateTime={detail.created}>{dateTime(detail.created)}</time>],
    ['Size', bytes(detail.size)],
    ['Type', meta.type],
    ['Kubernetes', meta.kubeVersion],
    ['Digest', <span title={detail.digest}>{detail.digest.slice(0, 19)}…</span>],
    ['Download', <a href={detail.file}>{detail.file.split('/').pop()}</a>],
  ];
  const facts = all.filter(([, value]) => value !== undefined && value !== '');
  return (
    <>
      <Panel id="details" title="Details">
        <dl class="facts">
          {facts.map(([term, value]) => (
            <Fragment key={term}>
              <dt>{term}</dt>
              <dd>{value}</dd>
            </Fragment>
          ))}
        </dl>
      </Panel>
      {home || sources.length > 0 ? (
        <Panel id="links" title="Links">
          <ul class="plain">
            {home ? (
              <li>
                <a href={home} rel="noopener noreferrer nofollow">
                  Home page
                </a>
              </li>
            ) : null}
            {sources.map((url) => (
              <li key={url}>
                <a href={url} rel="noopener noreferrer nofollow">
                  {url.replace(/^https?:\/\//, '')}
                </a>
              </li>
            ))}
          </ul>
        </Panel>
      ) : null}
      {meta.maintainers?.length ? (
        <Panel id="maintainers" title="Maintainers">
          <ul class="plain">
            {meta.maintainers.map((m) => {
              const url = safeUrl(m.url) ?? (m.email ? `mailto:${m.email}` : undefined);
              return <li key={m.name}>{url ? <a href={url}>{m.name}</a> : m.name}</li>;
            })}
          </ul>
        </Panel>
      ) : null}
      {meta.keywords?.length ? (
        <Panel id="keywords" title="Keywords">
          <ul class="keywords">
            {meta.keywords.map((keyword) => (
              <li key={keyword}>
                <Link href={withQuery('/search', { q: keyword })}>{keyword}</Link>
              </li>
            ))}
          </ul>
        </Panel>
      ) : null}
    </>
  );
}

function Dependencies({ detail }: { detail: VersionDetail }) {
  const dependencies = detail.metadata.dependencies ?? [];
  if (dependencies.length === 0) return null;
  return (
    <section aria-labelledby="dependencies-title">
      <h2 id="dependencies-title">Dependencies</h2>
      <DataTable
        caption="Charts this version depends on"
        hideCaption
        columns={['Chart', 'Version', 'Repository', 'Condition']}
        rows={dependencies.map((d) => ({
          key: d.alias ?? d.name,
          head: d.alias ? `${d.name} (as ${d.alias})` : d.name,
          cells: [d.version, d.repository, d.condition],
        }))}
      />
    </section>
  );
}

function Versions({ place, versions }: { place: Place; versions: VersionSummary[] }) {
  return (
    <DataTable
      class="versions"
      caption="All versions, newest first"
      hideCaption
      columns={['Version', 'App version', 'Pushed', 'Provenance', 'Values']}
      rows={versions.map((v, i) => {
        const older = versions[i + 1];
        return {
          key: v.version,
          current: v.version === place.version,
          head: (
            <>
              <Link href={href(place, { version: v.version, tab: 'readme' })}>{v.version}</Link>
              {v.deprecated ? <span class="badge badge-warn">deprecated</span> : null}
            </>
          ),
          cells: [
            v.appVersion,
            <time dateTime={v.created}>{dateTime(v.created)}</time>,
            v.provenance ? 'signed' : '',
            older ? (
              <Link href={href(place, { tab: 'compare', from: older.version, to: v.version })} aria-label={`Compare the values of ${older.version} and ${v.version}`}>
                diff with {older.version}
              </Link>
            ) : null,
          ],
        };
      })}
    />
  );
}

function VersionSelect({ id, label, value, versions, onChange }: { id: string; label: string; value: string; versions: VersionSummary[]; onChange: (version: string) => void }) {
  return (
    <span class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.currentTarget.value)}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            {v.version}
            {v.appVersion ? ` (app ${v.appVersion})` : ''}
          </option>
        ))}
      </select>
    </span>
  );
}

function Compare({ place, versions, from, to, session }: { place: Place; versions: VersionSummary[]; from: string; to: string; session: number }) {
  const texts = useAsync(
    (signal) => Promise.all([api.file(place.repository, from, 'values', signal), api.file(place.repository, to, 'values', signal)]),
    [place.repository, from, to, session],
  );
  const go = (params: { from: string; to: string }): void => navigate(href(place, { tab: 'compare', ...params }), { replace: true });
  return (
    <>
      <div class="compare-controls">
        <VersionSelect id="compare-from" label="From" value={from} versions={versions} onChange={(v) => go({ from: v, to })} />
        <VersionSelect id="compare-to" label="To" value={to} versions={versions} onChange={(v) => go({ from, to: v })} />
      </div>
      {texts.state === 'loading' ? <Loading /> : null}
      {texts.state === 'failed' ? <Failure error={texts.error} /> : null}
      {texts.state === 'done' ? <ValuesDiff before={texts.value[0]} after={texts.value[1]} from={from} to={to} /> : null}
    </>
  );
}

function Tabs({ place, detail, current, versionCount }: { place: Place; detail: VersionDetail; current: Tab; versionCount: number }) {
  const tabs: [Tab, string][] = [
    ['readme', 'README'],
    ['values', 'Values'],
    ...(detail.hasValuesSchema ? ([['schema', 'Values schema']] as [Tab, string][]) : []),
    ['versions', `Versions (${versionCount})`],
    ['compare', 'Compare values'],
  ];
  return (
    <nav class="tabs" aria-label="Chart sections">
      {tabs.map(([tab, label]) => (
        <Link key={tab} href={href(place, { tab })} aria-current={tab === current ? 'page' : undefined}>
          {label}
        </Link>
      ))}
    </nav>
  );
}

function TabContent({ tab, place, chart, detail, query, session }: { tab: Tab; place: Place; chart: ChartDetail; detail: VersionDetail; query: URLSearchParams; session: number }) {
  switch (tab) {
    case 'values':
      return detail.hasValues ? (
        <ChartText place={place} which="values" session={session} render={(text) => <YamlView text={text} label={`values.yaml of ${detail.version}`} />} />
      ) : (
        <p>This version has no values.yaml.</p>
      );
    case 'schema':
      return <ChartText place={place} which="values-schema" session={session} render={(text) => <SchemaView text={text} />} />;
    case 'versions':
      return <Versions place={place} versions={chart.versions} />;
    case 'compare': {
      const at = chart.versions.findIndex((v) => v.version === place.version);
      const to = query.get('to') ?? place.version;
      const from = query.get('from') ?? chart.versions[at + 1]?.version ?? to;
      return <Compare place={place} versions={chart.versions} from={from} to={to} session={session} />;
    }
    default:
      return detail.hasReadme ? (
        <ChartText place={place} which="readme" session={session} render={(text) => <Markdown text={text} />} />
      ) : (
        <p>This version has no README.</p>
      );
  }
}

function VersionPage({ chart, version, tab, query, session }: { chart: ChartDetail; version: string; tab: Tab; query: URLSearchParams; session: number }) {
  const place: Place = { repository: chart.repository, version, latest: chart.latestVersion };
  const detail = useAsync((signal) => api.version(chart.repository, version, signal), [chart.repository, version, session]);
  if (detail.state === 'loading') return <Loading />;
  if (detail.state === 'failed') return <Failure error={detail.error} />;
  const d = detail.value;
  const shownTab: Tab = tab === 'schema' && !d.hasValuesSchema ? 'readme' : tab;
  return (
    <>
      <header class="chart-head">
        <ChartIcon name={chart.name} icon={d.metadata.icon} large />
        <div>
          <h1 id="page-title" tabIndex={-1}>
            {chart.name}
          </h1>
          <p class="chart-repository">
            <Link href={`/namespaces/${chart.namespace || topLevel}`}>{chart.namespace || '(top level)'}</Link> / {chart.name}
          </p>
          {d.metadata.description ? <p class="chart-description">{d.metadata.description}</p> : null}
          <p class="badges">
            <span class="badge">version {d.version}</span>
            {d.metadata.appVersion ? <span class="badge">app {d.metadata.appVersion}</span> : null}
            <Provenance detail={d} />
            {d.deprecated ? <span class="badge badge-warn">deprecated</span> : null}
            {version !== chart.latestVersion ? (
              <Link class="badge" href={href(place, { version: chart.latestVersion, tab: shownTab })}>
                latest is {chart.latestVersion}
              </Link>
            ) : null}
          </p>
        </div>
        <VersionSelect id="version-select" label="Version" value={version} versions={chart.versions} onChange={(v) => navigate(href(place, { version: v, tab: shownTab }))} />
      </header>
      <div class="chart-body">
        <div class="chart-main">
          <Tabs place={place} detail={d} current={shownTab} versionCount={chart.versions.length} />
          <div class="tab-content">
            <TabContent tab={shownTab} place={place} chart={chart} detail={d} query={query} session={session} />
          </div>
          <Dependencies detail={d} />
        </div>
        <aside class="chart-side" aria-label="About this version">
          <Install detail={d} />
          <Details detail={d} />
        </aside>
      </div>
    </>
  );
}

const tabs = new Set<string>(['readme', 'values', 'schema', 'versions', 'compare']);

/** A chart's page (`/charts/<repository>`, where `helm search hub` links): one version at a time, in tabs. */
export default function ChartPage({ repository, query, session }: ChartPageProps) {
  const chart = useAsync((signal) => api.chart(repository, signal), [repository, session]);
  if (chart.state === 'loading') return <Loading />;
  if (chart.state === 'failed') {
    return (
      <>
        <h1 id="page-title" tabIndex={-1}>
          {repository}
        </h1>
        <Failure error={chart.error} />
      </>
    );
  }
  const requested = query.get('tab') ?? 'readme';
  const tab = (tabs.has(requested) ? requested : 'readme') as Tab;
  const version = query.get('version') ?? chart.value.latestVersion;
  return <VersionPage chart={chart.value} version={version} tab={tab} query={query} session={session} />;
}
