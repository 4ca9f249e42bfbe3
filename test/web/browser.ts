// What the browser tests share: Debian's Chromium driven by playwright-core, the
// built dashboard, fresh folders, and screenshots under test-output/. Without a
// Chromium the browser suites are skipped and say why (in CI, with
// LANSPREAD_TEST_STRICT=1, they fail instead); a missing dashboard build is an
// error, since `npm run build:web` fixes it.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../helpers/node-process.js';
import { skipSuite, type Prerequisite } from '../helpers/skip.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM: Prerequisite = fs.existsSync(CHROMIUM_PATH)
  ? { ok: true }
  : {
      ok: false,
      reason: `no Chromium at ${CHROMIUM_PATH}; install Debian's "chromium" package (apt-get install chromium; .ci/run does it), or set CHROMIUM_PATH`,
    };
/** true when the browser suites are to be skipped (never under LANSPREAD_TEST_STRICT=1, where they fail instead) */
export const SKIP_BROWSER = skipSuite(CHROMIUM, '*** Browser tests (test/web) ***');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--font-render-hinting=none',
];
const WEB_INDEX = path.join(PROJECT_ROOT, 'web', 'dist', 'index.html');
/** where screenshots go; gitignored */
export const OUTPUT_DIR = path.join(PROJECT_ROOT, 'test-output', 'web');

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM.ok) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: the dashboard test needs a real browser. ` +
        `Install Debian's "chromium" package (apt-get install chromium), or set CHROMIUM_PATH.`,
    );
  }
  if (!fs.existsSync(WEB_INDEX)) {
    throw new Error(`${WEB_INDEX} is missing: build the dashboard with "npm run build:web".`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Fresh game and state dirs, removed by the returned cleanup. */
export async function makeDirs(): Promise<{ games: string; state: string; cleanup: () => Promise<void> }> {
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'lanspread-web-'));
  const games = path.join(base, 'games');
  const state = path.join(base, 'state');
  await fsp.mkdir(games);
  await fsp.mkdir(state);
  return { games, state, cleanup: () => fsp.rm(base, { recursive: true, force: true }) };
}

export function openPage(browser: Browser, errors: string[]): Promise<Page> {
  return browser.newPage({ viewport: DESKTOP }).then((page) => {
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => errors.push(error.message));
    return page;
  });
}

/** Saves a screenshot (the full page unless told otherwise) as test-output/web/<name>.png. */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  await fsp.mkdir(OUTPUT_DIR, { recursive: true });
  const file = path.join(OUTPUT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage, animations: 'disabled' });
  return file;
}
