// Debian's Chromium driven by playwright-core, for the web UI's end-to-end tests. Playwright
// never downloads a browser here: it starts /usr/bin/chromium (or $CHROMIUM), with the flags
// this machine needs (no sandbox as root; no background networking, which the closed network
// would refuse over and over). Each launch gets a fresh temporary profile from Playwright
// (which refuses a --user-data-dir flag on launch()).

import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
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

/**
 * Text in the page whose contrast with what is behind it is under WCAG AA (4.5:1, or 3:1 for
 * large text), as `"text" fg on bg = ratio`. Backgrounds are the nearest opaque ones up the tree
 * (no images or gradients in this UI).
 */
export function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (color: string): number[] => (color.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r = 0, g = 0, b = 0]: number[]): number => {
      const channel = (c: number): number => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (element: Element | null): number[] => {
      for (let at = element; at; at = at.parentElement) {
        const [r, g, b, a = 1] = rgb(getComputedStyle(at).backgroundColor);
        if (a > 0.5) return [r ?? 255, g ?? 255, b ?? 255];
      }
      return [255, 255, 255];
    };
    const out: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement;
      const text = node.textContent?.trim();
      if (!element || !text || element.closest('.visually-hidden, .offscreen, [hidden], noscript')) continue;
      const style = getComputedStyle(element);
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
      const fg = rgb(style.color);
      const bg = background(element);
      const [light, dark] = [luminance(fg), luminance(bg)].sort((a, b) => b - a) as [number, number];
      const ratio = (light + 0.05) / (dark + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.push(`"${text.slice(0, 40)}" ${style.color} on rgb(${bg.join(', ')}) = ${ratio.toFixed(2)}`);
    }
    return out;
  });
}
