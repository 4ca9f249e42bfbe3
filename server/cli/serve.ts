// `lanspread serve`: run a node until SIGINT/SIGTERM.
import { startNode } from '../main.js';
import { createLogger } from '../runtime/logger.js';
import { resolveServeConfig, type ServeFlags } from './config.js';

export async function serveCommand(flags: ServeFlags): Promise<void> {
  const config = resolveServeConfig(flags);
  const logger = createLogger(config.logLevel);
  const node = await startNode(config, logger);
  const settings = node.runtime.settings();
  const lines = [
    `Lanspread node "${settings.name}" (peer ${node.runtime.peerId})`,
    `  dashboard: ${node.url}${node.token ? `#token=${node.token}` : ''}`,
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
