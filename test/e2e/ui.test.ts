// End-to-end: the web UI in Debian's Chromium (playwright-core), over charts pushed with stock
// Helm 4. Browse, search as you type, open a chart with the keyboard, read its README (whose
// <script> must not run) and values, copy commands (and run them with helm), compare the values
// of two versions; with access control on, sign in and see only what the rules let you pull.
//
// Screenshots go to $CHARTROOM_UI_SCREENSHOTS (default .tap/ui-screenshots). A missing Helm is a
// failure; a missing Chromium that cannot be installed skips, saying so.

import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { exampleAuth, passwordOf } from '../helpers/auth.js';
import { launchChromium, lowContrastText, screenshotDir } from '../helpers/browser.js';
import { findGpg, makeSigningKey } from '../helpers/gpg.js';
import { helm, helmFor, makeChart, pullInto, push, type Helm } from '../helpers/helm.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

const SUBTEST_TIMEOUT = 300_000;

const readme = `# NGINX chart

Serves **static files** behind a load balancer.

<script>window.__readmeScript = true</script>
<img src="missing.png" onerror="window.__readmeImage = true" alt="">
<a href="javascript:window.__readmeLink = true">a link</a>

| setting | default |
|---|---|
| replicaCount | 1 |
`;

const schema = JSON.stringify({
  $schema: 'https://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['replicaCount'],
  properties: {
    replicaCount: { type: 'integer', description: 'How many pods to run', default: 1 },
    image: { type: 'object', properties: { repository: { type: 'string', description: 'Image to run' } } },
  },
});

const chartYamlExtra = `home: https://nginx.example.com
maintainers:
  - name: Ada Lovelace
    email: ada@example.com
dependencies:
  - name: redis
    version: "~7.0"
    repository: oci://registry.example.com/data
    condition: redis.enabled`;

const files = { 'values.schema.json': schema, 'charts/redis/Chart.yaml': 'apiVersion: v2\nname: redis\nversion: 7.0.1\n' };

interface Flags {
  script?: boolean;
  image?: boolean;
  link?: boolean;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshotDir(), name), fullPage: true });
}

const cardNames = (page: Page): Promise<string[]> => page.locator('.card-title a').allTextContents();

/** The list after it loaded: waits for its count line, which comes with the cards. */
async function listed(page: Page): Promise<string[]> {
  await page.locator('.list-count').waitFor();
  return cardNames(page);
}

async function newPage(t: Test, browser: Browser, origin: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  t.teardown(() => context.close());
  const page = await context.newPage();
  page.on('pageerror', (error) => t.fail(`script error in the page: ${error.message}`));
  return page;
}

/** Runs a command the page offered for copying, as a user pasting it would (the leading `helm` is `h`). */
async function runCopied(h: Helm, command: string): Promise<string> {
  const [first, ...args] = command.split(' ');
  if (first !== 'helm') throw new Error(`not a helm command: ${command}`);
  return (await helm(h, args)).stdout;
}

t.test('browse, search as you type, read a chart, copy its commands, compare values', { timeout: SUBTEST_TIMEOUT }, async (t) => {
  const h = helmFor(t, 4);
  const gpg = findGpg();
  if (!gpg) t.fail('gpg not found: apt-get install -y gnupg (.ci/run does)');
  if (!h || !gpg) return;
  const browser = await launchChromium(t);
  if (!browser) return;
  const server = await startServer(t);
  const work = tempDir(t, 'ui-charts');
  const key = await makeSigningKey(gpg, tempDir(t, 'ui-gpg'), 'Chartroom UI Test', 'ui@example.com');

  const nginx = { name: 'nginx', description: 'NGINX web server', readme, chartYamlExtra, files };
  const charts = [
    { spec: { ...nginx, version: '1.0.0', appVersion: '1.24.0', replicas: 1 }, namespace: 'team' },
    { spec: { ...nginx, version: '1.1.0', appVersion: '1.25.3', replicas: 3, extraValues: 'newSetting: hello', signWith: key }, namespace: 'team' },
    { spec: { name: 'redis', version: '7.0.1', appVersion: '7.2.4', description: 'In-memory key-value store', readme: '# Redis\n' }, namespace: 'data' },
    { spec: { name: 'gateway', version: '0.3.0', description: 'Edge gateway in front of nginx' }, namespace: '' },
  ];
  for (const { spec, namespace } of charts) await push(h, server, await makeChart(h, work, spec), namespace);

  const page = await newPage(t, browser, server.url);

  // The first page: every chart, by name, namespaces beside them.
  const first = await page.goto(`${server.url}/`);
  t.match(first?.headers()['content-security-policy'], /script-src 'self'/, 'the page forbids inline scripts');
  t.same(await listed(page), ['gateway', 'nginx', 'redis'], 'every chart, sorted by name');
  t.same(await page.getByRole('navigation', { name: 'Namespaces' }).getByRole('link').allTextContents(), ['All charts', '(top level) 1', 'data 1', 'team 1']);
  await shot(page, 'home.png');
  await page.keyboard.press('Tab');
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content', 'the first Tab reaches the skip link');
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, button')].filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label') && !el.textContent?.trim()).length);
  t.equal(unlabelled, 0, 'every control has a label');
  t.same(await lowContrastText(page), [], 'all text meets WCAG AA contrast');

  await page.getByRole('link', { name: 'Last push' }).click();
  await page.waitForURL('**/?sort=updated');
  await page.locator('.card').first().waitFor();
  const times = await page.locator('.card time').evaluateAll((els) => els.map((el) => el.getAttribute('datetime') ?? ''));
  t.same(times, [...times].sort().reverse(), 'sorted by last push, newest first');
  await page.getByRole('navigation', { name: 'Namespaces' }).getByRole('link', { name: /^team/ }).click();
  await page.waitForURL('**/namespaces/team');
  await page.getByRole('heading', { name: 'Namespace team' }).waitFor();
  t.same(await listed(page), ['nginx'], "a namespace's charts");

  // Search as you type: results appear under the box with icon, name, version, repository, description.
  await page.keyboard.press('/');
  const box = page.getByRole('combobox', { name: 'Search charts' });
  t.ok(await box.evaluate((el) => el === document.activeElement), '"/" jumps to the search box');
  await box.pressSequentially('key-val', { delay: 40 });
  const suggestion = page.getByRole('option').first();
  await suggestion.waitFor();
  t.match(await suggestion.textContent(), /redis\s*7\.0\.1\s*data\/redis\s*In-memory key-value store/, 'name, version, repository and description');
  t.equal(await suggestion.locator('.chart-icon').count(), 1, 'and an icon');
  await shot(page, 'search-as-you-type.png');

  // Keyboard only: type, arrow down to the first result, Enter opens it.
  await box.fill('');
  await box.pressSequentially('nginx', { delay: 40 });
  await page.getByRole('option', { name: /team\/nginx/ }).waitFor();
  await box.press('ArrowDown');
  t.equal(await box.getAttribute('aria-activedescendant'), 'suggestion-0', 'the first suggestion is active');
  t.equal(await page.getByRole('option', { selected: true }).textContent().then((text) => /team\/nginx/.test(text ?? '')), true, 'and it is team/nginx');
  await box.press('Enter');
  await page.waitForURL('**/charts/team/nginx');
  await page.getByRole('heading', { level: 1, name: 'nginx', exact: true }).waitFor();

  // The README, rendered; what a chart author put in it to run a script did not run.
  const markdown = page.locator('.markdown');
  await markdown.getByRole('heading', { level: 2, name: 'NGINX chart' }).waitFor();
  t.match(await markdown.textContent(), /Serves static files behind a load balancer/);
  t.equal(await markdown.locator('table td').first().textContent(), 'replicaCount', 'tables render');
  await page.waitForFunction(() => [...document.querySelectorAll('.markdown img')].every((img) => (img as HTMLImageElement).complete));
  await markdown.getByText('a link').click(); // its javascript: href is gone: a click does nothing
  const flags = await page.evaluate((): Flags => {
    const w = window as unknown as Record<string, boolean | undefined>;
    return { script: w.__readmeScript, image: w.__readmeImage, link: w.__readmeLink };
  });
  t.same(flags, {}, "the README's <script>, onerror handler and javascript: link did not run");
  t.equal(await markdown.locator('script, [onerror], a[href^="javascript:"]').count(), 0, 'and they are not in the page');
  const unsanitized = await page.evaluate(async () => {
    const holder = document.createElement('div');
    holder.innerHTML = '<img src="/nothing.png" onerror="window.__unsanitized = true">';
    const img = holder.querySelector('img') as HTMLImageElement;
    const failed = new Promise((resolve) => img.addEventListener('error', resolve));
    document.body.append(holder);
    await failed;
    holder.remove();
    return (window as unknown as Record<string, unknown>).__unsanitized;
  });
  t.equal(unsanitized, undefined, "the page's CSP stops an inline handler that skipped the sanitizer");
  t.equal(await page.getByText('✓ Signed (provenance)').count(), 1, 'the signed version has the provenance badge');
  t.same(await page.locator('.chart-side .panel h2').allTextContents(), ['Install', 'Details', 'Links', 'Maintainers']);
  t.match(await page.getByRole('region', { name: 'Maintainers' }).textContent(), /Ada Lovelace/);
  t.match(await page.getByRole('region', { name: 'Dependencies' }).textContent(), /redis\s*~7\.0\s*oci:\/\/registry\.example\.com\/data\s*redis\.enabled/);
  t.same(await lowContrastText(page), [], "the chart's page meets WCAG AA contrast");
  await shot(page, 'chart-readme.png');

  // Copy buttons: the clipboard gets the command, and the command works when run.
  const pull = page.getByRole('button', { name: 'Copy helm pull command' });
  const pullCommand = `helm pull oci://${server.host}/team/nginx --version 1.1.0 --plain-http`;
  t.equal(await pull.getAttribute('data-copy'), pullCommand);
  await pull.click();
  await page.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
  t.equal(await page.evaluate(() => navigator.clipboard.readText()), pullCommand, 'the clipboard holds the pull command');
  const pulled = await pullInto(t, h, pullCommand.split(' ').slice(2));
  t.ok(pulled.files.has('nginx-1.1.0.tgz'), 'the copied helm pull works');
  const install = (await page.getByRole('button', { name: 'Copy helm install command' }).getAttribute('data-copy')) ?? '';
  t.equal(install, `helm install nginx oci://${server.host}/team/nginx --version 1.1.0 --plain-http`);
  t.match(await runCopied(h, install.replace('helm install', 'helm template')), /replicas: 3/, 'the install command names the right chart (rendered with helm template)');
  const repoAdd = (await page.getByRole('button', { name: 'Copy helm repo add command' }).getAttribute('data-copy')) ?? '';
  t.equal(repoAdd, `helm repo add team ${server.url}/chartrepo/team`);
  await runCopied(h, repoAdd);
  t.match((await helm(h, ['search', 'repo', 'team/'])).stdout, /team\/nginx\s+1\.1\.0/, 'the copied helm repo add works');

  // values.yaml, highlighted.
  await page.getByRole('link', { name: 'Values', exact: true }).click();
  const values = page.locator('pre.yaml');
  await values.waitFor();
  const replicaLine = values.locator('.line').filter({ hasText: /^\s*\d*replicaCount:/ }).first();
  t.equal(await replicaLine.locator('.t-key').textContent(), 'replicaCount');
  t.equal(await replicaLine.locator('.t-number').textContent(), '3', 'keys and numbers are told apart');
  t.ok((await values.locator('.t-comment').count()) > 5, "helm create's comments are marked as comments");
  t.same(await lowContrastText(page), [], 'so do the highlighted values');
  await shot(page, 'chart-values.png');

  await page.getByRole('link', { name: 'Values schema' }).click();
  const schemaRow = page.getByRole('row', { name: /replicaCount/ });
  await schemaRow.waitFor();
  t.match(await schemaRow.textContent(), /replicaCount\s*required\s*integer\s*1\s*How many pods to run/);
  t.match(await page.getByRole('row', { name: /image\.repository/ }).textContent(), /string\s*Image to run/);

  await page.getByRole('link', { name: 'Versions (2)' }).click();
  const versionRows = page.locator('table.versions tbody tr');
  await versionRows.first().waitFor();
  const rows = await versionRows.evaluateAll((trs) => trs.map((tr) => [...tr.children].slice(0, 4).map((cell) => cell.textContent?.trim() ?? '')));
  t.match(rows, [
    ['1.1.0', '1.25.3', /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, 'signed'],
    ['1.0.0', '1.24.0', /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, ''],
  ], 'every version with its app version, date and provenance');

  // Compare the values of two versions: the changed lines, and nothing else.
  await page.getByRole('link', { name: 'Compare values' }).click();
  const summary = page.locator('.diff-summary');
  await summary.waitFor();
  t.equal(await page.getByLabel('From', { exact: true }).inputValue(), '1.0.0', 'from the previous version');
  t.equal(await page.getByLabel('To', { exact: true }).inputValue(), '1.1.0', 'to this one');
  t.same(await page.locator('ins.diff-add').allTextContents(), ['+replicaCount: 3\n', '+\n', '+newSetting: hello\n'], 'extraValues added a blank line and newSetting');
  t.same(await page.locator('del.diff-del').allTextContents(), ['-replicaCount: 1\n']);
  t.match(await summary.textContent(), /3 lines added, 1 line removed/);
  t.same(await lowContrastText(page), [], 'and the diff');
  await shot(page, 'chart-diff.png');
  await page.getByLabel('From', { exact: true }).selectOption('1.1.0');
  await page.getByText('The values of 1.1.0 and 1.1.0 are the same.').waitFor();

  // Another version from the selector: its own page, without the badge.
  await page.getByRole('link', { name: 'README' }).click();
  await page.getByLabel('Version', { exact: true }).selectOption('1.0.0');
  await page.waitForURL('**/charts/team/nginx?version=1.0.0');
  await page.getByText('latest is 1.1.0').waitFor();
  t.equal(await page.getByText('No provenance').count(), 1, 'an unsigned version says so');

  // The dark scheme, for people whose system asks for it.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${server.url}/charts/team/nginx?tab=values`);
  await page.locator('pre.yaml').waitFor();
  t.same(await lowContrastText(page), [], 'the dark scheme meets WCAG AA contrast too');
  await shot(page, 'chart-values-dark.png');
  await page.emulateMedia({ colorScheme: 'light' });

  // Deep links, as helm search hub prints them, open the page directly.
  await page.goto(`${server.url}/charts/data/redis`);
  await page.getByRole('heading', { level: 1, name: 'redis', exact: true }).waitFor();
  await page.goto(`${server.url}/charts/team/nothing`);
  await page.getByRole('alert').filter({ hasText: /Not found/ }).waitFor();
  t.pass('a chart that does not exist says so');
});

t.test('signed in, each user sees what the rules let them pull', { timeout: SUBTEST_TIMEOUT }, async (t) => {
  const h = helmFor(t, 4);
  if (!h) return;
  const browser = await launchChromium(t);
  if (!browser) return;
  const dataDir = tempDir(t, 'ui-auth-data');
  const open = await startServer(t, {}, dataDir);
  const work = tempDir(t, 'ui-auth-charts');
  for (const [name, namespace] of [['site', 'public'], ['vault', 'secret'], ['api', 'team']] as const) {
    await push(h, open, await makeChart(h, work, { name, version: '1.0.0', description: `The ${name}`, readme: `# ${name} readme\n` }), namespace);
  }
  await open.app.close();
  const server = await startServer(t, exampleAuth, dataDir);
  const page = await newPage(t, browser, server.url);

  await page.goto(`${server.url}/`);
  t.same(await listed(page), ['site'], 'anonymous: only what anonymous may pull');
  const signInButton = page.getByRole('button', { name: 'Sign in' });
  const signIn = async (user: string, password: string): Promise<void> => {
    await signInButton.click();
    const dialog = page.getByRole('dialog', { name: 'Sign in' });
    await dialog.getByLabel('User name').fill(user);
    await dialog.getByLabel('Password').fill(password);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
  };

  await signIn('olga', 'wrong');
  await page.getByRole('alert').filter({ hasText: 'Wrong user name or password.' }).waitFor();
  await page.getByRole('dialog').getByLabel('Password').fill(passwordOf('olga'));
  await page.getByRole('dialog').getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in as olga').waitFor();
  await page.locator('.card-title a', { hasText: 'vault' }).waitFor();
  t.same(await cardNames(page), ['api', 'site', 'vault'], 'olga (ops) sees secret/vault too');
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
  t.notMatch(stored, passwordOf('olga'), 'the password is not kept');
  await shot(page, 'signed-in.png');

  await page.getByRole('link', { name: 'vault' }).click();
  await page.getByRole('heading', { name: 'vault readme' }).waitFor();
  t.pass("olga reads secret/vault's README");

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signInButton.waitFor();
  await page.getByRole('alert').filter({ hasText: 'Sign in to see this.' }).waitFor();
  t.pass('signed out, the same page asks to sign in');

  await signIn('paul', passwordOf('paul'));
  await page.getByText('Signed in as paul').waitFor();
  await page.getByRole('alert').filter({ hasText: 'the access rules do not let you pull it' }).waitFor();
  t.pass('paul may not see secret/vault');
  await page.goto(`${server.url}/`);
  t.same(await listed(page), ['api', 'site'], "paul's list leaves it out; a reload keeps him signed in");
});
