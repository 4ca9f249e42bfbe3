// The dashboard in a real browser (Debian's chromium, driven by playwright-core)
// against a real node process: the library shows what is on disk, follows the game
// dir live over the WebSocket without a reload, shows the node's own validation
// messages, and asks for the access token when the node wants one.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, startNode, type NodeProcess } from '../helpers/node-process.js';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WEB_INDEX = path.join(PROJECT_ROOT, 'web', 'dist', 'index.html');
const DEFAULT_CATALOG = path.join(PROJECT_ROOT, 'server', 'runtime', 'library', 'default-catalog.json');
/** The library monitor reacts to a new game folder within this time. */
const LIVE_TIMEOUT_MS = 10_000;

interface CatalogEntry {
  id: string;
  name: string;
  eti_version: string;
}

function readCatalog(): CatalogEntry[] {
  const { games } = JSON.parse(fs.readFileSync(DEFAULT_CATALOG, 'utf8')) as { games: CatalogEntry[] };
  if (games.length < 4) throw new Error(`${DEFAULT_CATALOG} needs at least 4 games for this test`);
  return games;
}

async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
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

async function makeGame(gameDir: string, id: string, version: string, installed = false): Promise<void> {
  const root = path.join(gameDir, id);
  await fsp.mkdir(root, { recursive: true });
  if (installed) await fsp.mkdir(path.join(root, 'local'));
  await fsp.writeFile(path.join(root, 'version.ini'), version);
}

/** Fresh game and state dirs, removed by the returned cleanup. */
async function makeDirs(): Promise<{ games: string; state: string; cleanup: () => Promise<void> }> {
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'lanspread-web-'));
  const games = path.join(base, 'games');
  const state = path.join(base, 'state');
  await fsp.mkdir(games);
  await fsp.mkdir(state);
  return { games, state, cleanup: () => fsp.rm(base, { recursive: true, force: true }) };
}

function openPage(browser: Browser, errors: string[]): Promise<Page> {
  return browser.newPage().then((page) => {
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => errors.push(error.message));
    return page;
  });
}

describe('dashboard', () => {
  const catalog = readCatalog();
  const [downloaded, installed, appearing, absent] = catalog as [CatalogEntry, CatalogEntry, CatalogEntry, CatalogEntry];
  const pageErrors: string[] = [];
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let node: NodeProcess;
  let browser: Browser;
  let page: Page;

  const card = (id: string) => page.locator(`[data-testid="game-${id}"]`);
  const stateOf = (id: string) => card(id).getAttribute('data-state');
  const actionsOf = (id: string) =>
    card(id)
      .locator('button[data-action]')
      .evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-action')));

  beforeAll(async () => {
    browser = await launchBrowser();
    dirs = await makeDirs();
    await makeGame(dirs.games, downloaded.id, downloaded.eti_version);
    await makeGame(dirs.games, installed.id, installed.eti_version, true);
    node = await startNode({ games: dirs.games, state: dirs.state, args: ['--name', 'web-test-node'] });
    page = await openPage(browser, pageErrors);
    await page.goto(node.url);
  });

  afterAll(async () => {
    await browser?.close();
    await node?.stop();
    await dirs?.cleanup();
  });

  it('shows every catalog game with the state found on disk', async () => {
    await expect.poll(() => page.locator('[data-testid^="game-"][data-state]').count()).toBe(catalog.length);
    for (const game of catalog) {
      await expect(card(game.id).locator('h3').textContent()).resolves.toBe(game.name);
    }
    expect(await stateOf(downloaded.id)).toBe('downloaded');
    expect(await card(downloaded.id).getByTestId('game-badge').textContent()).toContain(`v${downloaded.eti_version}`);
    expect(await stateOf(installed.id)).toBe('installed');
    // no peers (mDNS is off): a game that is not on disk is on no one's disk
    expect(await stateOf(absent.id)).toBe('missing');

    // The actions offered follow the state.
    expect(await actionsOf(downloaded.id)).toEqual(['install', 'remove']);
    expect(await actionsOf(installed.id)).toEqual(['uninstall']);
    expect(await actionsOf(absent.id)).toEqual([]);

    await expect.poll(() => page.getByTestId('node-name').textContent()).toBe('web-test-node');
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('online');

    if (process.env.DASHBOARD_SCREENSHOT) await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true });
  });

  it('filters by name and by "installed only"', async () => {
    // a name that its id does not contain, so only a case-insensitive name match finds it
    const named = catalog.find((g) => !g.id.includes(g.name.toLowerCase()));
    if (!named) throw new Error('the catalog needs a game whose name differs from its id');
    const search = page.getByTestId('filter-search');
    const installedOnly = page.getByTestId('filter-installed');
    const shown = () => page.locator('[data-testid^="game-"][data-state]').count();
    try {
      await search.fill(named.name.toUpperCase());
      await expect.poll(shown).toBeLessThan(catalog.length);
      expect(await card(named.id).count()).toBe(1);
      await search.fill('');
      await installedOnly.check();
      await expect.poll(shown).toBe(1);
      expect(await card(installed.id).count()).toBe(1);
    } finally {
      // leave the page unfiltered for the tests that follow, even after a failure
      await search.fill('');
      await installedOnly.uncheck();
    }
    await expect.poll(shown).toBe(catalog.length);
  });

  it('follows the game dir live, without reloading the page', async () => {
    await page.evaluate(() => ((globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true));
    expect(await stateOf(appearing.id)).toBe('missing');

    await makeGame(dirs.games, appearing.id, appearing.eti_version);
    await expect.poll(() => stateOf(appearing.id), { timeout: LIVE_TIMEOUT_MS }).toBe('downloaded');
    expect(await card(appearing.id).getByTestId('game-badge').textContent()).toContain(`v${appearing.eti_version}`);

    await fsp.rm(path.join(dirs.games, appearing.id), { recursive: true });
    await expect.poll(() => stateOf(appearing.id), { timeout: LIVE_TIMEOUT_MS }).toBe('missing');

    // the same document all along: the change came over the WebSocket, not a reload
    expect(await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
  });

  it("shows the node's own message when it refuses a settings change", async () => {
    const before = (await (await fetch(new URL('api/settings', node.url))).json()) as { gameDir: string };
    const missingDir = path.join(dirs.games, 'no', 'such', 'folder');
    // What the node says about this change, asked directly.
    const direct = await fetch(new URL('api/settings', node.url), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gameDir: missingDir }),
    });
    expect(direct.status).toBe(400);
    const { error } = (await direct.json()) as { error: { message: string } };

    const input = page.getByTestId('settings-game-dir');
    await expect.poll(() => input.inputValue()).toBe(before.gameDir);
    await input.fill(missingDir);
    await page.getByTestId('settings-save').click();
    await expect.poll(() => page.getByTestId('settings-error').textContent()).toBe(error.message);
    expect(await input.getAttribute('aria-invalid')).toBe('true');

    const after = (await (await fetch(new URL('api/settings', node.url))).json()) as { gameDir: string };
    expect(after.gameDir).toBe(before.gameDir);
  });

  it('reconnects when the node comes back, and shows what changed while it was away', async () => {
    const connectionState = () => page.getByTestId('connection').getAttribute('data-state');
    const { host } = new URL(node.url);
    await node.stop();
    await expect.poll(connectionState).toBe('reconnecting');

    await makeGame(dirs.games, appearing.id, appearing.eti_version);
    node = await startNode({ games: dirs.games, state: dirs.state, http: host, args: ['--name', 'web-test-node'] });
    await expect.poll(connectionState, { timeout: 15_000 }).toBe('online');
    await expect.poll(() => stateOf(appearing.id), { timeout: LIVE_TIMEOUT_MS }).toBe('downloaded');
    expect(await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
  });

  it('raised no script error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('dashboard on a node that wants a token', () => {
  const TOKEN = 'web-test-token-0123456789';
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let node: NodeProcess;
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    dirs = await makeDirs();
    node = await startNode({ games: dirs.games, state: dirs.state, args: ['--token', TOKEN] });
  });

  afterAll(async () => {
    await browser?.close();
    await node?.stop();
    await dirs?.cleanup();
  });

  it('asks for the token on a 401, then loads with it', async () => {
    const page = await openPage(browser, pageErrors);
    await page.goto(node.url);
    await page.getByLabel('Access token', { exact: true }).fill(TOKEN);
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('online');
    await expect.poll(() => page.locator('[data-testid^="game-"][data-state]').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('token-form').count()).toBe(0);
    await page.close();
  });

  it('takes the token from the address, strips it, and keeps it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${node.url}#token=${TOKEN}`);
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('online');
    expect(page.url()).not.toContain(TOKEN);
    expect(await page.getByTestId('token-form').count()).toBe(0);

    await page.reload();
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('online');
    expect(await page.getByTestId('token-form').count()).toBe(0);
    await context.close();
  });

  it('raised no script error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
