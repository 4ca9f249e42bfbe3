// The dashboard in a real browser (Debian's chromium, driven by playwright-core)
// against a real node process: the library shows what is on disk with the actions
// each state allows (and why the others cannot run), filters and sorts, opens a
// game's details, asks before a destructive action, follows the game dir live over
// the WebSocket without a reload, shows the node's own validation messages, says
// when it is offline and comes back by itself, keeps a light or dark theme, fits a
// phone, and asks for the access token when the node wants one. Transfers between
// two nodes are in transfers.test.ts.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, startNode, type NodeProcess } from '../helpers/node-process.js';
import { SKIP_BROWSER, PHONE, DESKTOP, launchBrowser, makeDirs, openPage, screenshot } from './browser.js';

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
  if (games.length < 5) throw new Error(`${DEFAULT_CATALOG} needs at least 5 games for this test`);
  return games;
}

async function makeGame(gameDir: string, id: string, version: string, installed = false): Promise<void> {
  const root = path.join(gameDir, id);
  await fsp.mkdir(root, { recursive: true });
  if (installed) await fsp.mkdir(path.join(root, 'local'));
  await fsp.writeFile(path.join(root, 'version.ini'), version);
}

describe.skipIf(SKIP_BROWSER)('dashboard', () => {
  const catalog = readCatalog();
  const [downloaded, installed, appearing, absent, removable] = catalog as [
    CatalogEntry,
    CatalogEntry,
    CatalogEntry,
    CatalogEntry,
    CatalogEntry,
  ];
  const pageErrors: string[] = [];
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let node: NodeProcess;
  let browser: Browser;
  let page: Page;

  const card = (id: string) => page.locator(`[data-testid="game-${id}"]`);
  const stateOf = (id: string) => card(id).getAttribute('data-state');
  const shown = () => page.locator('[data-testid^="game-"][data-state]').count();
  /** the card's buttons as "action" or "action:disabled" */
  const actionsOf = (id: string) =>
    card(id)
      .locator('button[data-action]')
      .evaluateAll((buttons) =>
        buttons.map((b) => `${b.getAttribute('data-action')}${(b as unknown as { disabled: boolean }).disabled ? ':disabled' : ''}`),
      );
  const background = () => page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
  /** the element has the keyboard focus */
  const focused = (locator: Locator) =>
    locator.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement);

  beforeAll(async () => {
    browser = await launchBrowser();
    dirs = await makeDirs();
    await makeGame(dirs.games, downloaded.id, downloaded.eti_version);
    await makeGame(dirs.games, installed.id, installed.eti_version, true);
    await makeGame(dirs.games, removable.id, removable.eti_version, true);
    node = await startNode({ games: dirs.games, state: dirs.state, args: ['--name', 'web-test-node'] });
    page = await openPage(browser, pageErrors);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(node.url);
  });

  afterAll(async () => {
    await browser?.close();
    await node?.stop();
    await dirs?.cleanup();
  });

  it('shows every catalog game with the state found on disk, and the actions that state allows', async () => {
    await expect.poll(shown).toBe(catalog.length);
    for (const game of catalog) {
      await expect(card(game.id).locator('h3').textContent()).resolves.toContain(game.name);
    }
    expect(await stateOf(downloaded.id)).toBe('downloaded');
    expect(await card(downloaded.id).getByTestId('game-badge').textContent()).toContain(`v${downloaded.eti_version}`);
    expect(await stateOf(installed.id)).toBe('installed');
    // no peers (mDNS is off): a game that is not on disk is on no one's disk
    expect(await stateOf(absent.id)).toBe('missing');

    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('online');
    // The actions offered follow the state; one that cannot run is disabled and says why.
    expect(await actionsOf(downloaded.id)).toEqual(['install', 'remove']);
    expect(await actionsOf(installed.id)).toEqual(['uninstall']);
    expect(await actionsOf(absent.id)).toEqual(['download:disabled']);
    const reason = card(absent.id).getByTestId('action-reason');
    expect(await reason.textContent()).toBe('No peer has this game right now.');
    expect(await reason.isVisible()).toBe(true);
    const describedBy = await card(absent.id).locator('button[data-action="download"]').getAttribute('aria-describedby');
    expect(describedBy).toBe(await reason.getAttribute('id'));

    await expect.poll(() => page.getByTestId('node-name').textContent()).toBe('web-test-node');
  });

  it('filters by name and by view, and sorts', async () => {
    // a name that its id does not contain, so only a case-insensitive name match finds it
    const named = catalog.find((g) => !g.id.includes(g.name.toLowerCase()));
    if (!named) throw new Error('the catalog needs a game whose name differs from its id');
    const search = page.getByTestId('filter-search');
    try {
      await search.fill(named.name.toUpperCase());
      await expect.poll(shown).toBeLessThan(catalog.length);
      expect(await card(named.id).count()).toBe(1);
      await search.fill('');
      await page.getByTestId('filter-installed').check();
      await expect.poll(shown).toBe(2);
      expect(await card(installed.id).count()).toBe(1);
      // nothing is on a peer (there are none), and nothing has an update
      await page.getByTestId('filter-available').check();
      await expect.poll(shown).toBe(0);
      await page.getByTestId('filter-updates').check();
      await expect.poll(shown).toBe(0);
    } finally {
      // leave the page unfiltered for the tests that follow, even after a failure
      await search.fill('');
      await page.getByTestId('filter-all').check();
    }
    await expect.poll(shown).toBe(catalog.length);

    const firstCard = () => page.locator('[data-testid^="game-"][data-state]').first().getAttribute('data-state');
    await page.getByTestId('sort').selectOption('state');
    await expect.poll(firstCard).toBe('installed');
    await page.getByTestId('sort').selectOption('name');
    await expect.poll(firstCard).not.toBe('installed');
  });

  it('opens a game in a dialog and gives the focus back when it closes', async () => {
    const opener = card(downloaded.id).getByTestId('game-details-open');
    await opener.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByTestId('game-details');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.locator('h2').textContent()).toBe(downloaded.name);
    expect(await dialog.getByTestId('details-state').textContent()).toBe('downloaded');
    await expect.poll(() => dialog.getByTestId('details-no-sources').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await focused(opener)).toBe(true);
  });

  it('asks before uninstalling, with the keyboard', async () => {
    const uninstall = card(removable.id).locator('button[data-action="uninstall"]');
    await uninstall.focus();
    await page.keyboard.press('Enter');
    const confirm = card(removable.id).locator('button[data-action="confirm"]');
    await expect.poll(() => confirm.isVisible()).toBe(true);
    expect(await card(removable.id).getByTestId('confirm').textContent()).toContain(`Uninstall ${removable.name}?`);
    // nothing happened yet
    expect(fs.existsSync(path.join(dirs.games, removable.id, 'local'))).toBe(true);
    expect(await focused(confirm)).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => stateOf(removable.id), { timeout: LIVE_TIMEOUT_MS }).toBe('downloaded');
    expect(fs.existsSync(path.join(dirs.games, removable.id, 'local'))).toBe(false);
    await expect
      .poll(() => page.getByTestId('notices').textContent(), { timeout: LIVE_TIMEOUT_MS })
      .toContain(`${removable.name} is uninstalled.`);
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
    // the game folder's free space, as the node reports it
    await expect.poll(() => page.getByTestId('settings-free-space').textContent()).toMatch(/^\s*Free space: [\d.]+ (KiB|MiB|GiB|TiB)\s*$/);
    await input.fill(missingDir);
    await page.getByTestId('settings-save').click();
    await expect.poll(() => page.getByTestId('settings-error').textContent()).toBe(error.message);
    expect(await input.getAttribute('aria-invalid')).toBe('true');

    const after = (await (await fetch(new URL('api/settings', node.url))).json()) as { gameDir: string };
    expect(after.gameDir).toBe(before.gameDir);
    await page.getByRole('button', { name: 'Revert' }).click();
  });

  it('follows the system theme, and keeps a chosen one across a reload', async () => {
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(background).not.toBe(light);
    const dark = await background();
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(background).toBe(light);

    await page.getByTestId('theme').selectOption('dark');
    await expect.poll(background).toBe(dark);
    await page.reload();
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('online');
    expect(await page.getByTestId('theme').inputValue()).toBe('dark');
    expect(await background()).toBe(dark);
    await page.getByTestId('theme').selectOption('system');
    await expect.poll(background).toBe(light);
  });

  it('fits a phone screen without sideways scrolling', async () => {
    try {
      await page.setViewportSize(PHONE);
      await expect.poll(shown).toBe(catalog.length);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow).toBe(0);
      // every part of the page is still there, one below the other
      for (const id of ['transfers-panel', 'peers-panel', 'settings-panel']) expect(await page.getByTestId(id).isVisible()).toBe(true);
      await screenshot(page, 'single-node-phone');
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });

  it('says when it is offline, disables the actions, and reconnects when the node comes back', async () => {
    await page.evaluate(() => ((globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const connectionState = () => page.getByTestId('connection').getAttribute('data-state');
    const { host } = new URL(node.url);
    await node.stop();
    await expect.poll(connectionState).toBe('reconnecting');
    expect(await page.getByTestId('offline-banner').isVisible()).toBe(true);
    expect(await actionsOf(downloaded.id)).toEqual(['install:disabled', 'remove:disabled']);
    expect(await card(downloaded.id).getByTestId('action-reason').textContent()).toBe('The node cannot be reached right now.');
    await screenshot(page, 'offline-desktop-light', false);

    await makeGame(dirs.games, appearing.id, appearing.eti_version);
    node = await startNode({ games: dirs.games, state: dirs.state, http: host, args: ['--name', 'web-test-node'] });
    await expect.poll(connectionState, { timeout: 15_000 }).toBe('online');
    await expect.poll(() => stateOf(appearing.id), { timeout: LIVE_TIMEOUT_MS }).toBe('downloaded');
    expect(await page.getByTestId('offline-banner').count()).toBe(0);
    expect(await actionsOf(downloaded.id)).toEqual(['install', 'remove']);
    expect(await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
  });

  it('raised no script error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
