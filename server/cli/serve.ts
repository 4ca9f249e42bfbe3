// `lanspread serve`: run a node until SIGINT/SIGTERM.
import os from 'node:os';
import { startNode } from '../main.js';
import { createLogger } from '../runtime/logger.js';
import type { Command } from 'commander';
import { parsedServeOptions, resolveServeConfig } from './config.js';

export async function serveCommand(_flags: unknown, cmd: Command): Promise<void> {
  const config = resolveServeConfig(parsedServeOptions(cmd));
  const logger = createLogger(config.logLevel);
  const node = await startNode(config, logger);
  const settings = node.runtime.settings();
  const link = (url: string) => `${url}${node.token ? `#token=${node.token}` : ''}`;
  const lines = [
    `Lanspread node "${settings.name}" (peer ${node.runtime.peerId})`,
    `  dashboard: ${link(node.url)}`,
    // on every address: the links another machine can open
    ...lanUrls(config.httpHost, node.url).map((url) => `  also:      ${link(url)}`),
    `  peers:     QUIC port ${node.runtime.quicEndpoint?.port ?? 'off'}`,
    `  games:     ${settings.gameDir}`,
    `  state:     ${config.stateDir}`,
  ];
  if (node.token) lines.push(`  API token: ${node.token} (send as "Authorization: Bearer TOKEN")`);
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    node.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** For a node on 0.0.0.0 or ::, its URL on each of this machine's network addresses. */
function lanUrls(httpHost: string, url: string): string[] {
  if (httpHost !== '0.0.0.0' && httpHost !== '::') return [];
  const port = new URL(url).port;
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && (a.family === 'IPv4' || httpHost === '::') && !a.address.startsWith('fe80:'))
    .map((a) => `http://${a!.family === 'IPv6' ? `[${a!.address}]` : a!.address}:${port}/`);
}
