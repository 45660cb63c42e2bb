// The web UI with many charts: seeds `--charts` charts × `--versions` versions over
// `--namespaces` namespaces through the OCI API, then loads the first page in Debian's Chromium
// (playwright-core) and measures, over `--rounds` loads each:
//  - cold: a new browser context (empty cache) → the chart list drawn, ms from navigation start;
//  - warm: the same page loaded again (assets from the cache, index.html revalidated);
//  - search as you type: a word typed → its suggestions shown (includes the 120 ms debounce);
//  - a chart's page: navigation → its README drawn (loads the chart page's script the first time).
// Also the built JS, raw and gzipped, and `/api/v1/charts` as the server answers it.
//
//   npm run bench:ui [-- --charts 1000 --versions 3 --namespaces 5 --rounds 7]
//
// Writes bench/results/ui-<time>.json. Other work on the machine shows in the figures: report
// medians, and run it on a quiet machine.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumFlags, chromiumPath } from '../test/helpers/browser.js';
import { stats, type Stats } from './http.js';
import { chartName, seedCharts } from './seed-charts.js';
import { startChartroom } from './servers.js';

const { values: options } = parseArgs({
  options: {
    charts: { type: 'string', default: '1000' },
    versions: { type: 'string', default: '3' },
    namespaces: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '7' },
  },
});
const charts = Number(options.charts);
const versions = Number(options.versions);
const namespaces = Math.max(1, Number(options.namespaces));
const rounds = Number(options.rounds);
const target = { firstPageMs: 300, jsGzipBytes: 100 * 1024 };

const webDir = fileURLToPath(new URL('../dist/web/assets/', import.meta.url));

function jsSizes(): { file: string; bytes: number; gzipBytes: number }[] {
  return readdirSync(webDir)
    .filter((file) => file.endsWith('.js'))
    .map((file) => {
      const body = readFileSync(join(webDir, file));
      return { file, bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length };
    });
}

/**
 * Milliseconds from the navigation's start until `selector` is in the page: a MutationObserver
 * installed before the page's own scripts (Playwright's init script) notes the moment it appears.
 */
async function drawnAt(page: Page, selector: string): Promise<number> {
  const handle = await page.waitForFunction((s) => {
    const w = window as unknown as { __drawn?: Record<string, number> };
    return w.__drawn?.[s];
  }, selector, { timeout: 30_000 });
  return (await handle.jsonValue()) as number;
}

function watchFor(selectors: string[]): void {
  const w = window as unknown as { __drawn?: Record<string, number> };
  w.__drawn = {};
  const check = (): void => {
    for (const s of selectors) if (w.__drawn && w.__drawn[s] === undefined && document.querySelector(s)) w.__drawn[s] = performance.now();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
}

async function firstPage(browser: Browser, url: string): Promise<{ cold: number[]; warm: number[]; search: number[]; chart: number[] }> {
  const out = { cold: [] as number[], warm: [] as number[], search: [] as number[], chart: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(watchFor, ['.list-count', '.markdown, .tab-content p']);
    const page = await context.newPage();
    await page.goto(`${url}/`, { waitUntil: 'commit' });
    out.cold.push(await drawnAt(page, '.list-count'));
    await page.reload({ waitUntil: 'commit' });
    out.warm.push(await drawnAt(page, '.list-count'));

    const word = chartName(round * 37).split('-')[0] as string;
    const box = page.getByRole('combobox', { name: 'Search charts' });
    await box.fill('');
    const typed = performance.now();
    await box.fill(word);
    await page.getByRole('option').first().waitFor();
    out.search.push(performance.now() - typed);

    const chartUrl = await page.locator('.card-title a').first().getAttribute('href');
    await page.goto(`${url}${chartUrl}`, { waitUntil: 'commit' });
    out.chart.push(await drawnAt(page, '.markdown, .tab-content p'));
    await context.close();
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'chartroom-bench-ui-'));
const server = await startChartroom(dir);
try {
  console.error(`seeding ${charts} charts × ${versions} versions over ${namespaces} namespaces …`);
  const perNamespace = Math.ceil(charts / namespaces);
  for (let n = 0; n < namespaces; n++) {
    const count = Math.min(perNamespace, charts - n * perNamespace);
    if (count > 0) await seedCharts(server.url, { namespace: `team${n}`, charts: count, versions, progressEvery: 0 });
  }
  // The whole list, and the first page's request.
  const api = { all: [] as number[], first: [] as number[] };
  for (let i = 0; i < 20; i++) {
    for (const [which, query] of [['all', ''], ['first', '&offset=0&limit=60']] as const) {
      const started = performance.now();
      const body = (await (await fetch(`${server.url}/api/v1/charts?sort=name${query}`)).json()) as { total: number };
      api[which].push(performance.now() - started);
      if (body.total !== charts) throw new Error(`/api/v1/charts counted ${body.total} charts, expected ${charts}`);
    }
  }

  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumFlags });
  const loads = await firstPage(browser, server.url).finally(() => browser.close());
  const js = jsSizes();
  const figures: Record<string, Stats> = {
    'api /api/v1/charts, all (ms)': stats(api.all),
    'api /api/v1/charts, first 60 (ms)': stats(api.first),
    'first page, cold cache (ms)': stats(loads.cold),
    'first page, warm cache (ms)': stats(loads.warm),
    'search as you type, typed → shown (ms)': stats(loads.search),
    'chart page, README drawn (ms)': stats(loads.chart),
  };
  const result = {
    when: new Date().toISOString(),
    charts,
    versions,
    namespaces,
    rounds,
    js,
    jsGzipTotal: js.reduce((sum, f) => sum + f.gzipBytes, 0),
    figures,
    target,
  };
  for (const [name, s] of Object.entries(figures)) console.log(`${name.padEnd(42)} median ${s.medianMs.toFixed(0).padStart(5)}  min ${s.minMs.toFixed(0).padStart(5)}  max ${s.maxMs.toFixed(0).padStart(5)}`);
  for (const f of js) console.log(`${f.file.padEnd(42)} ${(f.bytes / 1024).toFixed(1)} kB, ${(f.gzipBytes / 1024).toFixed(1)} kB gzipped`);
  console.log(`JS gzipped in all: ${(result.jsGzipTotal / 1024).toFixed(1)} kB (target < ${target.jsGzipBytes / 1024} kB); first page median ${figures['first page, cold cache (ms)']?.medianMs.toFixed(0)} ms (target < ${target.firstPageMs} ms)`);
  const out = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `ui-${result.when.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
