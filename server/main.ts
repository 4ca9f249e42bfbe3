// Composition root: config → catalog → runtime → app → listen, and a graceful
// close. The only place that opens the HTTP port.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { ConfigError, type ServeConfig } from './cli/config.js';
import { isLocalHostname } from './http/security.js';
import { loadCatalog } from './runtime/library/catalog.js';
import { isErrno } from './runtime/fs-util.js';
import type { Logger } from './runtime/logger.js';
import { PeerRuntime } from './runtime/runtime.js';
import { ensureDir } from './runtime/state/state-dir.js';
import { SettingsStore } from './runtime/state/settings-store.js';

export interface RunningNode {
  runtime: PeerRuntime;
  app: FastifyInstance;
  /** the dashboard's address, with the port actually bound */
  url: string;
  /** the API token, when one is required */
  token: string | null;
  close(): Promise<void>;
}

export async function startNode(config: ServeConfig, logger: Logger): Promise<RunningNode> {
  await ensureDir(config.stateDir, 'state dir');
  const saved = await new SettingsStore(config.stateDir).loadSaved();
  const gameDir = config.explicit.gameDir ? config.gameDir : (saved.gameDir ?? config.gameDir);
  await ensureDir(gameDir, 'game dir');
  const catalog = await loadCatalog(config.catalogFile ?? undefined);
  const token = await resolveToken(config);

  const runtime = await PeerRuntime.start({
    gameDir,
    stateDir: config.stateDir,
    catalog,
    name: config.explicit.name ? config.name : (saved.name ?? config.name),
    uploadLimit: config.explicit.uploadLimit ? config.uploadLimit : (saved.uploadLimit ?? config.uploadLimit),
    downloadLimit: config.explicit.downloadLimit ? config.downloadLimit : (saved.downloadLimit ?? config.downloadLimit),
    maxActiveTransfers: config.maxActiveTransfers ?? saved.maxActiveTransfers ?? 1,
    logger: logger.child({ component: 'runtime' }),
    network: {
      quicPort: config.quicPort,
      peers: config.peers,
      timing: config.peerTiming,
      mdns: config.mdns,
      swarm: config.swarm,
      ...(config.chunkSize ? { chunkSize: config.chunkSize } : {}),
    },
  });

  let app: FastifyInstance;
  try {
    app = await buildApp({ runtime, token, allowedHosts: config.allowedHosts, logger: logger.child({ component: 'http' }) });
    await app.listen({ host: config.httpHost, port: config.httpPort });
  } catch (err) {
    await runtime.close();
    if (isErrno(err, 'EADDRINUSE')) {
      throw new ConfigError(`--http: ${config.httpHost}:${config.httpPort} is already in use (is another Lanspread node running?)`);
    }
    if (isErrno(err, 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN')) {
      throw new ConfigError(`--http: cannot listen on ${config.httpHost}: no such local address`);
    }
    if (isErrno(err, 'EACCES')) throw new ConfigError(`--http: not allowed to listen on port ${config.httpPort}`);
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.httpPort;
  const shownHost = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
  const url = `http://${shownHost}:${port}/`;

  let closing: Promise<void> | undefined;
  return {
    runtime,
    app,
    url,
    token,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await runtime.close();
      })()),
  };
}

/**
 * A token is required off loopback: the one given, else one generated once into
 * the state dir (`api-token`) and printed at start.
 */
async function resolveToken(config: ServeConfig): Promise<string | null> {
  if (config.token !== null) return config.token;
  if (isLocalHostname(config.httpHost.toLowerCase())) return null;
  const file = path.join(config.stateDir, 'api-token');
  try {
    const saved = (await fs.readFile(file, 'utf8')).trim();
    if (saved.length >= 16) return saved;
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  const token = randomBytes(24).toString('base64url');
  await fs.writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}
