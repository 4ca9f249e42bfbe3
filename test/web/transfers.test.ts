// The dashboard driving real transfers between two real nodes (the built dist/,
// QUIC on loopback, a real RAR archive): a peer's game appears with the peer's
// name shown as text, a peer on another protocol version is flagged, Download
// shows live progress until the game is installed, another download is
// cancelled, and the page is photographed (desktop and phone,
// light and dark) under test-output/web/ while a download runs.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Game } from '../../shared/api.js';
import { PROTO_VERSION } from '../../shared/wire.js';
import { formatBytes } from '../../web/src/lib/format.js';
import { getJson } from '../helpers/api.js';
import { rarFixture } from '../helpers/fixtures.js';
import { rawRequest } from '../helpers/peers.js';
import { quicClient } from '../helpers/quic-client.js';
import { PROJECT_ROOT, startNode, type NodeProcess } from '../helpers/node-process.js';
import { DESKTOP, PHONE, SKIP_BROWSER, launchBrowser, makeDirs, openPage, screenshot } from './browser.js';

const MiB = 1024 * 1024;
/** A name a hostile peer could choose: it must show as these characters, never as markup. */
const SOURCE_NAME = '<img src=x onerror="window.__xss=1">Basement PC';
/** the download limit of the receiving node: slow enough to see progress and to cancel */
const DOWNLOAD_LIMIT = MiB;
/** transfers and installs run in real time on a shared machine */
const TRANSFER_TIMEOUT_MS = 30_000;

interface CatalogEntry {
  id: string;
  name: string;
  eti_version: string;
}
const CATALOG = (
  JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'server', 'runtime', 'library', 'default-catalog.json'), 'utf8')) as {
    games: CatalogEntry[];
  }
).games;
const entry = (id: string): CatalogEntry => {
  const found = CATALOG.find((g) => g.id === id);
  if (!found) throw new Error(`the default catalog has no "${id}"`);
  return found;
};
/** installed from the peer: a real RAR archive plus a filler file, about 3 MiB */
const INSTALLED = entry('openttd');
/** cancelled: 24 MiB, far more than arrives before the cancel */
const CANCELLED = entry('wesnoth');
/** the receiver's own games: one installed with an older version, one downloaded */
const OLD = entry('xonotic');
const LOCAL = entry('hedgewars');
const SHARED_TOO = entry('teeworlds');

async function writeGame(gameDir: string, id: string, version: string, files: Record<string, Buffer>, installed = false): Promise<void> {
  const root = path.join(gameDir, id);
  for (const [rel, data] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fsp.writeFile(path.join(root, rel), data);
  }
  await fsp.mkdir(root, { recursive: true });
  if (installed) await fsp.mkdir(path.join(root, 'local'), { recursive: true });
  await fsp.writeFile(path.join(root, 'version.ini'), `${version}\n`);
}

describe.skipIf(SKIP_BROWSER)('dashboard transfers between two nodes', { timeout: 90_000 }, () => {
  const pageErrors: string[] = [];
  let sourceDirs: Awaited<ReturnType<typeof makeDirs>>;
  let receiverDirs: Awaited<ReturnType<typeof makeDirs>>;
  let source: NodeProcess;
  let receiver: NodeProcess;
  let browser: Browser;
  let page: Page;
  let installedBytes = 0;

  const card = (id: string) => page.locator(`[data-testid="game-${id}"]`);
  const stateOf = (id: string) => card(id).getAttribute('data-state');
  const valueOf = async (bar: Locator) => ((await bar.count()) > 0 ? Number(await bar.first().getAttribute('aria-valuenow')) : null);
  /** polls until the bar shows a value strictly between 0 and 100, and returns it */
  const midway = (bar: Locator) =>
    expect
      .poll(
        async () => {
          const v = await valueOf(bar);
          return v !== null && v > 0 && v < 100;
        },
        { timeout: TRANSFER_TIMEOUT_MS, interval: 50 },
      )
      .toBe(true);

  beforeAll(async () => {
    browser = await launchBrowser();
    sourceDirs = await makeDirs();
    receiverDirs = await makeDirs();
    const archive = await fsp.readFile(rarFixture('rar_binary_data.rar'));
    const installFiles = { [`${INSTALLED.id}.eti`]: archive, 'extras/filler.bin': randomBytes(2 * MiB) };
    installedBytes = Object.values(installFiles).reduce((n, b) => n + b.length, 0) + `${INSTALLED.eti_version}\n`.length;
    await writeGame(sourceDirs.games, INSTALLED.id, INSTALLED.eti_version, installFiles);
    await writeGame(sourceDirs.games, CANCELLED.id, CANCELLED.eti_version, { [`${CANCELLED.id}.eti`]: randomBytes(24 * MiB) });
    await writeGame(sourceDirs.games, SHARED_TOO.id, SHARED_TOO.eti_version, {}, true);
    await writeGame(receiverDirs.games, OLD.id, '20231001', {}, true);
    await writeGame(receiverDirs.games, LOCAL.id, LOCAL.eti_version, {});

    const env = { LANSPREAD_PING_INTERVAL_MS: '500', LANSPREAD_CHUNK_BYTES: String(256 * 1024) };
    source = await startNode({ ...sourceDirs, args: ['--quic-port', '0', '--name', SOURCE_NAME], env });
    receiver = await startNode({
      ...receiverDirs,
      args: ['--quic-port', '0', '--name', 'lan-party-laptop', '--peer', `127.0.0.1:${source.quicPort}`],
      env,
    });
    const limited = await fetch(new URL('api/settings', receiver.url), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ downloadLimit: DOWNLOAD_LIMIT }),
    });
    if (!limited.ok) throw new Error(`setting the download limit failed: ${limited.status} ${await limited.text()}`);

    page = await openPage(browser, pageErrors);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(receiver.url);
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.stop('SIGKILL');
    await source?.stop('SIGKILL');
    await receiverDirs?.cleanup();
    await sourceDirs?.cleanup();
  });

  it("shows the peer and its games, with the peer's name as text", async () => {
    const row = page.getByTestId('peers-panel').locator('tbody tr');
    await expect.poll(() => row.count(), { timeout: TRANSFER_TIMEOUT_MS }).toBe(1);
    expect(await row.getByTestId('peer-name').textContent()).toBe(SOURCE_NAME);
    // the name was not parsed as markup: no image element, and its handler never ran
    expect(await page.getByTestId('peers-panel').locator('img').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    // same peer, same protocol: no warning
    expect(await page.getByTestId('peers-warning').count()).toBe(0);

    await expect.poll(() => stateOf(INSTALLED.id), { timeout: TRANSFER_TIMEOUT_MS }).toBe('available');
    expect(await card(INSTALLED.id).getByTestId('game-badge').textContent()).toBe('On 1 peer');
    expect(await card(INSTALLED.id).locator('button[data-action="download"]').isEnabled()).toBe(true);
    // an older local copy shows the update the catalog knows of; no peer has it, so Update says why it cannot run
    expect(await card(OLD.id).getByTestId('game-update').textContent()).toBe(`Update v${OLD.eti_version}`);
    expect(await card(OLD.id).locator('button[data-action="update"]').isDisabled()).toBe(true);
    expect(await card(OLD.id).getByTestId('action-reason').textContent()).toBe('No peer has this game right now.');

    // The details list the peer that has the game, with its version, again as text.
    await card(INSTALLED.id).getByTestId('game-details-open').click();
    const sources = page.getByTestId('details-sources');
    await expect.poll(() => sources.locator('tbody tr').count()).toBe(1);
    expect(await sources.locator('tbody th').textContent()).toBe(SOURCE_NAME);
    expect(await sources.locator('tbody td').first().textContent()).toContain(INSTALLED.eti_version);
    // a complete holder, sending nothing to this node right now
    expect(await sources.getByTestId('details-source').getAttribute('data-complete')).toBe('true');
    expect(await sources.getByTestId('details-source-holds').textContent()).toContain('complete');
    expect(await sources.getByTestId('details-source-speed').textContent()).toBe('—');
    await screenshot(page, 'details-desktop-light', false);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('game-details').count()).toBe(0);
  });

  it('warns about a peer that speaks another protocol version', async () => {
    // a bare QUIC client says Hello with the next protocol version; it answers no ping, so it only stays a few seconds
    const conn = await quicClient(receiver.quicPort);
    const hello = { type: 'Hello', peer_id: conn.identity.peerId, proto_version: PROTO_VERSION + 1, listen_port: 1, name: 'future-node' };
    expect((await rawRequest(conn, hello)).answer.type).toBe('Hello');
    const warning = page.getByTestId('peers-warning');
    await expect.poll(() => warning.count(), { timeout: TRANSFER_TIMEOUT_MS }).toBe(1);
    expect(await warning.textContent()).toContain('another protocol version');
    const row = page.getByTestId(`peer-${hello.peer_id}`);
    expect(await row.getByTestId('peer-protocol').textContent()).toBe(`protocol v${PROTO_VERSION + 1}`);
    // the real peer speaks ours: no badge on it
    expect(await page.getByTestId('peers-panel').getByTestId('peer-protocol').count()).toBe(1);
    await conn.close();
  });

  it('downloads with live progress (bytes, speed, ETA, peers) until the game is installed', async () => {
    await card(INSTALLED.id).locator('button[data-action="download"]').click();
    const bar = card(INSTALLED.id).getByTestId('progress-transfer');
    await midway(bar);
    const stats = card(INSTALLED.id).getByTestId('operation-stats');
    expect(await stats.getByTestId('operation-peers').textContent()).toBe('1 peer sending');
    expect(await stats.getByTestId('operation-bytes').textContent()).toMatch(new RegExp(`^\\S+ \\S+ / ${formatBytes(installedBytes)}$`));
    expect(await stats.getByTestId('operation-speed').textContent()).toMatch(/^\d+\.\d MiB\/s$/);
    expect(await stats.getByTestId('operation-eta').textContent()).toMatch(/^ETA (\d+:\d\d|—)$/);
    // the transfers panel lists it while it runs
    expect(await page.getByTestId(`transfer-${INSTALLED.id}`).count()).toBe(1);

    await expect.poll(() => stateOf(INSTALLED.id), { timeout: TRANSFER_TIMEOUT_MS }).toBe('installed');
    expect(fs.existsSync(path.join(receiverDirs.games, INSTALLED.id, 'local', 'random_data.bin'))).toBe(true);
    expect(await card(INSTALLED.id).getByTestId('operation').count()).toBe(0);
    await expect.poll(() => page.getByTestId('notices').textContent()).toContain(`${INSTALLED.name} is installed.`);
    const recent = page.getByTestId('transfers-recent').locator(`li[data-id="${INSTALLED.id}"]`);
    expect(await recent.evaluateAll((items) => items.map((li) => li.getAttribute('data-outcome')))).toEqual(['finished', 'finished']);
    expect(await recent.first().textContent()).toContain('Install finished');
  });

  it('cancels a running download, with the keyboard', async () => {
    await card(CANCELLED.id).locator('button[data-action="download"]').click();
    await midway(card(CANCELLED.id).getByTestId('progress-transfer'));
    // while it runs, Cancel is all it offers
    const actions = card(CANCELLED.id).locator('button[data-action]');
    expect(await actions.evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-action')))).toEqual(['cancel']);

    await photograph();

    const cancel = card(CANCELLED.id).locator('button[data-action="cancel"]');
    await cancel.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => card(CANCELLED.id).getByTestId('operation').count(), { timeout: TRANSFER_TIMEOUT_MS }).toBe(0);
    expect(await stateOf(CANCELLED.id)).toBe('available');
    const game = await getJson<Game>(receiver.url, `/api/games/${CANCELLED.id}`);
    expect(game).toMatchObject({ operation: null, downloaded: false, installed: false });
    await expect.poll(() => page.getByTestId('notices').textContent()).toContain(`Download of ${CANCELLED.name} cancelled.`);
    const recent = page.getByTestId('transfers-recent').locator(`li[data-id="${CANCELLED.id}"]`);
    expect(await recent.getAttribute('data-outcome')).toBe('cancelled');
  });

  it('raised no script error in the page', () => {
    expect(pageErrors).toEqual([]);
  });

  /** desktop and phone, light and dark, while a download runs (sorted by state, so it comes first) */
  async function photograph(): Promise<void> {
    try {
      await page.getByTestId('sort').selectOption('state');
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize(DESKTOP);
        await screenshot(page, `dashboard-desktop-${scheme}`);
        await page.setViewportSize(PHONE);
        await page.evaluate('window.scrollTo(0, 0)');
        await screenshot(page, `dashboard-phone-${scheme}`, false);
        await screenshot(page, `dashboard-phone-${scheme}-full`);
      }
    } finally {
      await page.getByTestId('sort').selectOption('name');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.setViewportSize(DESKTOP);
    }
  }
});
