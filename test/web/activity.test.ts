// The queue, the graphs, the history and the LAN party in a real Chromium, over
// three real nodes (QUIC on loopback): a seed with three games (stored RAR
// archives, so each installs), the player whose dashboard is driven, and a second
// player. Three Downloads clicked in a row wait in the queue; it is reordered by
// dragging with the mouse and by the keyboard, and the node follows that order;
// the graphs draw while a download runs; the seed's party view lists all three
// nodes and what it sent to each; a reload keeps the history and the graph.
// Screenshots (desktop and phone) under test-output/web/.
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry, Peer, Queue } from '../../shared/api.js';
import { writeStoredRar5 } from '../../bench/install/stored-rar.js';
import { getJson, postJson } from '../helpers/api.js';
import { startNode, type NodeProcess } from '../helpers/node-process.js';
import { DESKTOP, PHONE, SKIP_BROWSER, launchBrowser, makeDirs, openPage, screenshot } from './browser.js';

const MiB = 1024 * 1024;
const TIMEOUT_MS = 45_000;
/** catalog games and versions; the first is big enough to keep the others queued for a while */
const FIRST = { id: 'openttd', name: 'OpenTTD', version: '20240601', size: 8 * MiB };
const SECOND = { id: 'wesnoth', name: 'The Battle for Wesnoth', version: '20240505', size: 2 * MiB };
const THIRD = { id: 'teeworlds', name: 'Teeworlds', version: '20231120', size: 2 * MiB };
const GAMES = [FIRST, SECOND, THIRD];

async function writeGame(gameDir: string, game: (typeof GAMES)[number]): Promise<void> {
  const root = path.join(gameDir, game.id);
  await fsp.mkdir(root, { recursive: true });
  writeStoredRar5(path.join(root, `${game.id}.eti`), [{ name: 'data/content.bin', size: game.size }]);
  await fsp.writeFile(path.join(root, 'version.ini'), `${game.version}\n`);
}

describe.skipIf(SKIP_BROWSER)('dashboard: queue, graphs, history and the LAN party', { timeout: 120_000 }, () => {
  const pageErrors: string[] = [];
  const dirs: Awaited<ReturnType<typeof makeDirs>>[] = [];
  let seed: NodeProcess;
  let player: NodeProcess;
  let other: NodeProcess;
  let browser: Browser;
  let page: Page;

  const card = (id: string) => page.locator(`[data-testid="game-${id}"]`);
  const queueIds = async () => (await getJson<Queue>(player.url, '/api/queue')).items.map((i) => i.id);
  const shownQueue = () => page.getByTestId('queue-item').evaluateAll((items) => items.map((li) => li.getAttribute('data-id')));

  beforeAll(async () => {
    browser = await launchBrowser();
    for (let i = 0; i < 3; i++) dirs.push(await makeDirs());
    for (const game of GAMES) await writeGame(dirs[0]!.games, game);
    const env = { LANSPREAD_PING_INTERVAL_MS: '500', LANSPREAD_CHUNK_BYTES: String(256 * 1024) };
    seed = await startNode({ ...dirs[0]!, args: ['--quic-port', '0', '--name', 'seed-pc'], env });
    const peerArgs = ['--quic-port', '0', '--peer', `127.0.0.1:${seed.quicPort}`, '--download-limit', '1M'];
    player = await startNode({ ...dirs[1]!, args: [...peerArgs, '--name', 'organiser-laptop'], env });
    other = await startNode({ ...dirs[2]!, args: [...peerArgs, '--name', 'player-two'], env });
    page = await openPage(browser, pageErrors);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(player.url);
  });

  afterAll(async () => {
    await browser?.close();
    for (const node of [player, other, seed]) await node?.stop('SIGKILL');
    for (const d of dirs) await d.cleanup();
  });

  it('queues Downloads clicked in a row; reordered by dragging and by the keyboard, the node follows', async () => {
    for (const game of GAMES) {
      await expect.poll(() => card(game.id).getAttribute('data-state'), { timeout: TIMEOUT_MS }).toBe('available');
    }
    for (const game of GAMES) await card(game.id).locator('button[data-action="download"]').click();
    await expect.poll(shownQueue, { timeout: TIMEOUT_MS }).toEqual([SECOND.id, THIRD.id]);
    expect(await card(THIRD.id).getByTestId('game-queued').textContent()).toMatch(/Queued\s+download, position 2/);
    // a queued game offers only Cancel (out of the queue)
    expect(
      await card(THIRD.id)
        .locator('button[data-action]')
        .evaluateAll((b) => b.map((x) => x.getAttribute('data-action'))),
    ).toEqual(['cancel']);

    // mouse: drag the third onto the second
    const item = (id: string) => page.locator(`[data-testid="queue-item"][data-id="${id}"]`);
    await item(THIRD.id).dragTo(item(SECOND.id));
    await expect.poll(queueIds).toEqual([THIRD.id, SECOND.id]);
    expect(await shownQueue()).toEqual([THIRD.id, SECOND.id]);

    // keyboard: the second's handle, Up; focus stays on it and the move is announced
    const handle = item(SECOND.id).getByTestId('queue-handle');
    await handle.focus();
    await page.keyboard.press('ArrowUp');
    await expect.poll(queueIds).toEqual([SECOND.id, THIRD.id]);
    expect(await shownQueue()).toEqual([SECOND.id, THIRD.id]);
    expect(
      await handle.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement),
    ).toBe(true);
    expect(await page.getByTestId('queue-announcement').textContent()).toBe(`${SECOND.name} moved to position 1 of 2.`);
    expect(await card(SECOND.id).getByTestId('game-queued').textContent()).toMatch(/position 1/);
    // all of it while the first download still runs
    expect(await card(FIRST.id).getByTestId('progress-transfer').count()).toBe(1);
  });

  it('draws the network graph live while a download runs, with a text alternative', async () => {
    const graph = page.getByTestId('graph-network');
    const line = graph.locator('path[data-series="down"]');
    await expect.poll(async () => ((await line.getAttribute('d')) ?? '').split('L').length, { timeout: TIMEOUT_MS }).toBeGreaterThan(3);
    const before = Number(await graph.getAttribute('data-samples'));
    // a sample a second: it keeps drawing
    await expect.poll(async () => Number(await graph.getAttribute('data-samples')), { timeout: 5_000 }).toBeGreaterThan(before);
    // receiving at about the 1 MiB/s limit
    await expect
      .poll(async () => Number.parseFloat((await page.getByTestId('graph-network-down-now').textContent()) ?? '0'), { timeout: TIMEOUT_MS })
      .toBeGreaterThan(0.3);
    const desc = await page.getByTestId('graph-network-desc').textContent();
    expect(desc).toMatch(/^Download: now \d+\.\d MiB\/s, average \d+\.\d MiB\/s, peak \d+\.\d MiB\/s\. Upload: now/);
    const svg = graph.locator('svg');
    expect(await svg.getAttribute('role')).toBe('img');
    expect(await svg.getAttribute('aria-labelledby')).toBe('graph-network-title graph-network-desc');
    await photograph('activity');
  });

  it('downloads in the chosen order, one at a time, each then installed', async () => {
    // the other player fetches one game meanwhile, so the seed serves two players
    expect((await postJson(other.url, `/api/games/${THIRD.id}/download`, {})).status).toBe(202);
    for (const game of GAMES) {
      await expect.poll(() => card(game.id).getAttribute('data-state'), { timeout: TIMEOUT_MS }).toBe('installed');
    }
    const history = await getJson<HistoryEntry[]>(player.url, '/api/history');
    const downloads = history.filter((e) => e.kind === 'download').reverse();
    expect(downloads.map((e) => [e.id, e.outcome])).toEqual([
      [FIRST.id, 'ok'],
      [SECOND.id, 'ok'],
      [THIRD.id, 'ok'],
    ]);
    // the installs wrote to disk: the disk graph saw it
    await expect
      .poll(async () => (await page.getByTestId('graph-disk-desc').textContent()) ?? '', { timeout: 5_000 })
      .not.toMatch(/peak 0\.0 MiB\/s/);
  });

  it('keeps the history and the recent graph across a reload', async () => {
    await page.reload();
    const recent = page.getByTestId('transfers-recent');
    await expect.poll(() => recent.locator('li').count()).toBe(6);
    const outcomes = await recent
      .locator('li')
      .evaluateAll((items) =>
        items.map((li) => `${li.getAttribute('data-kind')}:${li.getAttribute('data-id')}:${li.getAttribute('data-outcome')}`),
      );
    expect(outcomes).toEqual([
      `install:${THIRD.id}:finished`,
      `download:${THIRD.id}:finished`,
      `install:${SECOND.id}:finished`,
      `download:${SECOND.id}:finished`,
      `install:${FIRST.id}:finished`,
      `download:${FIRST.id}:finished`,
    ]);
    expect(await recent.locator('li').first().textContent()).toContain('Install finished');
    // the graph comes back at once from the node's samples, not from a second of live data
    expect(Number(await page.getByTestId('graph-network').getAttribute('data-samples'))).toBeGreaterThan(10);
    await photograph('history');
  });

  it('shows the LAN party on the seed: all three nodes, and what it sent to each', async () => {
    const seedPage = await openPage(browser, pageErrors);
    try {
      await seedPage.goto(seed.url);
      const party = seedPage.getByTestId('party-panel');
      const names = () => party.getByTestId('party-name').allTextContents();
      await expect.poll(names, { timeout: TIMEOUT_MS }).toEqual(['seed-pc', 'organiser-laptop', 'player-two']);
      const peers = await getJson<Peer[]>(seed.url, '/api/peers');
      const sent = (name: string) => peers.find((p) => p.name === name)!.uploadedBytes;
      expect(sent('organiser-laptop')).toBeGreaterThan(12 * MiB);
      expect(sent('player-two')).toBeGreaterThan(2 * MiB);
      const node = (name: string) => party.getByTestId('party-node').filter({ has: seedPage.getByText(name, { exact: true }) });
      const { formatBytes } = await import('../../web/src/lib/format.js');
      await expect
        .poll(() => node('organiser-laptop').getByTestId('party-sent').textContent(), { timeout: TIMEOUT_MS })
        .toBe(formatBytes(sent('organiser-laptop')));
      await expect
        .poll(() => node('player-two').getByTestId('party-sent').textContent(), { timeout: TIMEOUT_MS })
        .toBe(formatBytes(sent('player-two')));
      const served = (await getJson<{ uploadedBytes: number }>(seed.url, '/api/stats')).uploadedBytes;
      await expect.poll(() => party.getByTestId('party-served').textContent(), { timeout: TIMEOUT_MS }).toBe(formatBytes(served));
      expect(await party.getByTestId('party-served-to').textContent()).toBe('2');
      expect(await seedPage.getByTestId('node-uploaded').textContent()).toContain(formatBytes(served));
      // at phone width it is one column: every node's box as wide as the list
      await seedPage.setViewportSize(PHONE);
      const widths = await party
        .getByTestId('party-node')
        .evaluateAll((items) => items.map((li) => Math.round(li.getBoundingClientRect().width)));
      const listWidth = await party.getByTestId('party-list').evaluate((ul) => Math.round(ul.getBoundingClientRect().width));
      expect(widths).toEqual([listWidth, listWidth, listWidth]);
      await party.scrollIntoViewIfNeeded();
      await screenshot(seedPage, 'party-phone-light', false);
      await seedPage.setViewportSize(DESKTOP);
      await party.scrollIntoViewIfNeeded();
      await screenshot(seedPage, 'party-desktop-light', false);
    } finally {
      await seedPage.close();
    }
  });

  it('sets how many transfers run at once from the settings form', async () => {
    const field = page.getByTestId('settings-max-active');
    await expect.poll(() => field.inputValue()).toBe('1');
    await field.fill('2');
    await page.getByTestId('settings-save').click();
    await expect.poll(() => page.getByTestId('settings-saved').count()).toBe(1);
    expect((await getJson<Queue>(player.url, '/api/queue')).maxActive).toBe(2);
    expect((await getJson<{ maxActiveTransfers: number }>(player.url, '/api/settings')).maxActiveTransfers).toBe(2);
  });

  it('raised no script error in the pages', () => {
    expect(pageErrors).toEqual([]);
  });

  async function photograph(name: string): Promise<void> {
    try {
      await page.setViewportSize(DESKTOP);
      await screenshot(page, `${name}-desktop-light`);
      await page.setViewportSize(PHONE);
      await page.getByTestId('transfers-panel').scrollIntoViewIfNeeded();
      await screenshot(page, `${name}-phone-light`, false);
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  }
});
