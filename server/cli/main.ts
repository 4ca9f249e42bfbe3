#!/usr/bin/env node
// The `lanspread` command line. `serve` runs a node; the other commands talk to
// a running node's API.
import { Command, Option } from 'commander';
import { LANSPREAD_VERSION } from '../runtime/constants.js';
import { LanspreadError } from '../runtime/errors.js';
import { ConfigError } from './config.js';
import { serveCommand } from './serve.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

const program = new Command()
  .name('lanspread')
  .description('Share games across a local network.')
  .version(LANSPREAD_VERSION)
  .showHelpAfterError();

program
  .command('serve')
  .description('run a node: discovery, transfers, installs, and the dashboard')
  .option('--games <dir>', 'game dir (env LANSPREAD_GAMES; default ~/Games/lanspread)')
  .option('--state <dir>', 'state dir (env LANSPREAD_STATE; default $XDG_STATE_HOME/lanspread)')
  .option('--catalog <file>', 'catalog JSON replacing the built-in one (env LANSPREAD_CATALOG)')
  .option('--http <host:port>', 'dashboard and API address (env LANSPREAD_HTTP; default 127.0.0.1:7420)')
  .option('--quic-port <n>', 'QUIC port for peers (env LANSPREAD_QUIC_PORT; default 7421 or the next free one)')
  .option('--name <name>', 'name shown to other nodes (env LANSPREAD_NAME; default the host name)')
  .option('--token <token>', 'API access token (env LANSPREAD_TOKEN; required off localhost, generated when missing)')
  .option('--peer <host:port>', 'a peer to connect to without mDNS; repeatable (env LANSPREAD_PEERS, comma-separated)', collect)
  .option('--no-mdns', 'do not use mDNS discovery (env LANSPREAD_NO_MDNS=1)')
  .option('--upload-limit <rate>', 'upload cap in bytes/s, e.g. 20M; 0 = none (env LANSPREAD_UPLOAD_LIMIT)')
  .option('--download-limit <rate>', 'download cap in bytes/s; 0 = none (env LANSPREAD_DOWNLOAD_LIMIT)')
  .addOption(
    new Option('--log-level <level>', 'log level (env LANSPREAD_LOG_LEVEL)').choices([
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
      'silent',
    ]),
  )
  .action(serveCommand);

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`lanspread: ${message}\n`);
  // Expected failures are one line; anything else is a bug worth its stack.
  const expected = err instanceof ConfigError || err instanceof LanspreadError;
  if (!expected && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
