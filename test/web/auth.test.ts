// The dashboard on a node that wants a token, in a real browser: it asks for the
// token once, exchanges it for an HttpOnly, SameSite=Strict cookie, and keeps
// nothing readable by scripts (no localStorage, nothing in any URL, the event
// stream included). The link printed at start (`#token=…`) logs in and leaves the
// address bar clean. The dashboard and the API docs page work under the node's
// Content Security Policy, with no violation reported.
import type { BrowserContext, Page } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess } from '../helpers/node-process.js';
import { SKIP_BROWSER, launchBrowser, makeDirs } from './browser.js';

const TOKEN = 'web-test-token-0123456789';

interface Watched {
  page: Page;
  context: BrowserContext;
  /** every request URL and WebSocket URL the page opened */
  urls: string[];
  /** CSP violations the page reported, as "directive blocked-uri" */
  violations: () => Promise<string[]>;
}

describe.skipIf(SKIP_BROWSER)('dashboard on a node that wants a token', () => {
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

  async function watchedPage(): Promise<Watched> {
    const context = await browser.newContext();
    // (page code as strings: this file is compiled without the DOM's types)
    await context.addInitScript(`
      globalThis.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => globalThis.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
    `);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const urls: string[] = [];
    page.on('request', (request) => urls.push(request.url()));
    page.on('websocket', (socket) => urls.push(socket.url()));
    const violations = () => page.evaluate<string[]>('globalThis.__csp');
    return { page, context, urls, violations };
  }

  const connectionState = (page: Page) => page.getByTestId('connection').getAttribute('data-state');
  const gamesShown = (page: Page) => page.locator('[data-testid^="game-"][data-state]').count();

  async function expectSessionCookie(context: BrowserContext) {
    const cookies = await context.cookies(node.url);
    expect(cookies).toHaveLength(1);
    const [cookie] = cookies;
    expect(cookie!.name).toMatch(/^lanspread_session_/);
    expect(cookie!.httpOnly).toBe(true);
    expect(cookie!.sameSite).toBe('Strict');
    expect(cookie!.path).toBe('/');
    expect(cookie!.value).not.toContain(TOKEN);
  }

  async function expectNothingReadable(w: Watched) {
    // no script on the page can read the token: not in storage, not in document.cookie
    const stored = await w.page.evaluate<string>(
      'JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie',
    );
    expect(stored).not.toContain(TOKEN);
    expect(await w.page.evaluate<string>('document.cookie')).toBe('');
    // and it never rode in an address, the event stream's included
    expect(w.urls.filter((u) => u.includes('/api/events')).length).toBeGreaterThan(0);
    expect(w.urls.filter((u) => u.includes(TOKEN) || u.includes('token='))).toEqual([]);
  }

  it('asks for the token on a 401, says when it is wrong, then keeps the session in a cookie', async () => {
    const w = await watchedPage();
    const { page, context } = w;
    const response = await page.goto(node.url);
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.getByLabel('Access token', { exact: true }).fill('not-the-token-at-all');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => page.getByTestId('token-error').count()).toBe(1);
    expect(await context.cookies(node.url)).toEqual([]);

    await page.getByLabel('Access token', { exact: true }).fill(TOKEN);
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => connectionState(page)).toBe('online');
    await expect.poll(() => gamesShown(page)).toBeGreaterThan(0);
    expect(await page.getByTestId('token-form').count()).toBe(0);
    await expectSessionCookie(context);

    await page.reload();
    await expect.poll(() => connectionState(page)).toBe('online');
    await expect.poll(() => gamesShown(page)).toBeGreaterThan(0);
    expect(await page.getByTestId('token-form').count()).toBe(0);
    await expectNothingReadable(w);
    // the dashboard rendered under the node's Content Security Policy, with nothing blocked
    expect(await w.violations()).toEqual([]);
    await context.close();
  });

  it('takes the token from the address, strips it, and keeps the session across a reload', async () => {
    const w = await watchedPage();
    const { page, context } = w;
    await page.goto(`${node.url}#token=${TOKEN}`);
    await expect.poll(() => connectionState(page)).toBe('online');
    expect(page.url()).not.toContain(TOKEN);
    expect(page.url()).not.toContain('#');
    expect(await page.getByTestId('token-form').count()).toBe(0);
    await expectSessionCookie(context);

    await page.reload();
    await expect.poll(() => connectionState(page)).toBe('online');
    expect(await page.getByTestId('token-form').count()).toBe(0);
    // the history entry the link made is gone too
    expect(await page.evaluate<string>('location.href')).not.toContain(TOKEN);
    // the URL check: only the link itself had the token, in its fragment, which browsers never send
    w.urls.splice(0, w.urls.length, ...w.urls.filter((u) => !u.endsWith(`#token=${TOKEN}`)));
    await expectNothingReadable(w);
    expect(await w.violations()).toEqual([]);
    await context.close();
  });

  it('a browser without the cookie is refused by the API, and the docs page renders with it', async () => {
    const fresh = await browser.newContext();
    const refused = await fresh.request.get(new URL('api/games', node.url).toString());
    expect(refused.status()).toBe(401);
    await fresh.close();

    const w = await watchedPage();
    const { page, context } = w;
    await page.goto(`${node.url}#token=${TOKEN}`);
    await expect.poll(() => connectionState(page)).toBe('online');
    await page.goto(new URL('api/docs', node.url).toString());
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 15_000 }).toBeGreaterThan(10);
    expect(await page.locator('.opblock-summary-path').allTextContents()).toContain('/api/games/{id}/download');
    expect(await w.violations()).toEqual([]);
    await context.close();
  });

  it('raised no script error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
