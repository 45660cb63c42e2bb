// Debian's Chromium driven by playwright-core, for the web UI's end-to-end tests. Playwright
// never downloads a browser here: it starts /usr/bin/chromium (or $CHROMIUM), with the flags
// this machine needs (no sandbox as root; no background networking, which the closed network
// would refuse over and over). Each launch gets a fresh temporary profile from Playwright
// (which refuses a --user-data-dir flag on launch()).

import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { Test } from 'tap';
import { isExecutable } from './which.js';

export const chromiumPath = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

export const chromiumFlags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** As root on Debian, `apt-get install -y chromium` (what .ci/run does); false when that is not possible. */
function installChromium(): boolean {
  if (process.getuid?.() !== 0 || !isExecutable('/usr/bin/apt-get')) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => spawnSync('apt-get', args, { env, stdio: 'ignore', timeout: 600_000 }).status === 0;
  return apt(['update', '-qq']) && apt(['install', '-y', '-qq', 'chromium']) && isExecutable(chromiumPath);
}

/**
 * Headless Chromium, closed when `t` ends; undefined (the test skipped, with the reason) only
 * when it is missing and cannot be installed here.
 */
export async function launchChromium(t: Test): Promise<Browser | undefined> {
  if (!isExecutable(chromiumPath) && !installChromium()) {
    t.pass('the browser tests', { skip: `no Chromium at ${chromiumPath}, and it could not be installed: run "apt-get install -y chromium" as root (.ci/run does), or set CHROMIUM` });
    return undefined;
  }
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumFlags });
  t.teardown(() => browser.close());
  return browser;
}

/** Where screenshots go: $CHARTROOM_UI_SCREENSHOTS, else .tap/ui-screenshots in the checkout. */
export function screenshotDir(): string {
  const dir = process.env['CHARTROOM_UI_SCREENSHOTS'] ?? join(new URL('../..', import.meta.url).pathname, '.tap', 'ui-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
