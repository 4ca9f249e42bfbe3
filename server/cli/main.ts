#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2: transfers make many short-lived buffers, and a small
// young generation keeps a node's memory flat (measured in docs/BENCHMARKS.md:
// receiver peak RSS 195 → 163 MiB at the same speed). It only works as a flag.
// The `lanspread` command line. `serve` runs a node; the other commands talk to
// a running node's API.
import { Command, Option } from 'commander';
import { LANSPREAD_VERSION } from '../runtime/constants.js';
import { LanspreadError } from '../runtime/errors.js';
import { addServeOptions, ConfigError } from './config.js';
import { ApiError } from './api-client.js';
import { serveCommand } from './serve.js';
import { gameCommand, gamesCommand, peersCommand, statusCommand, type GameAction } from './client-commands.js';
import { historyCommand, queueCommand, queueMoveCommand, queueRemoveCommand } from './activity-commands.js';

const program = new Command()
  .name('lanspread')
  .description('Share games across a local network.')
  .version(LANSPREAD_VERSION)
  .showHelpAfterError()
  // `queue move|remove` take the same client options as `queue`: each command reads those after its own name
  .enablePositionalOptions();

addServeOptions(program.command('serve').description('run a node: discovery, transfers, installs, and the dashboard')).action(serveCommand);

const withClientOptions = (cmd: Command) =>
  cmd
    .addOption(new Option('--url <url>', 'the node to talk to').env('LANSPREAD_URL').default('http://127.0.0.1:7420'))
    .addOption(new Option('--token <token>', 'API access token').env('LANSPREAD_TOKEN'))
    .option('--json', 'print JSON instead of tables');

withClientOptions(
  program.command('games').description('list the games here and on the network').option('--all', 'the whole catalog'),
).action(gamesCommand);
withClientOptions(program.command('peers').description('list the peers the node knows')).action(peersCommand);
withClientOptions(program.command('status').description('the node, its peers and running operations')).action(statusCommand);

const queue = withClientOptions(program.command('queue').description('the transfers waiting for a slot, next first'))
  .enablePositionalOptions()
  .action(queueCommand);
withClientOptions(queue.command('move <id> <position>').description('move a queued game to a position (1 = next)')).action(
  (id: string, position: string, flags) => queueMoveCommand(id, position, flags),
);
withClientOptions(queue.command('remove <id>').description('take a game out of the queue')).action((id: string, flags) =>
  queueRemoveCommand(id, flags),
);
withClientOptions(
  program.command('history').description('finished operations, newest first').option('--limit <n>', 'how many to show; default 20'),
).action(historyCommand);

const ACTIONS: [GameAction, string][] = [
  ['download', 'download a game from peers and install it'],
  ['update', 'fetch the newest version of a game from peers'],
  ['install', 'install a downloaded game'],
  ['uninstall', 'remove the installed files of a game (local/)'],
  ['cancel', 'cancel the running download of a game'],
  ['remove', 'remove the downloaded files of a game'],
];
for (const [action, description] of ACTIONS) {
  const cmd = withClientOptions(program.command(`${action} <id>`).description(description)).option(
    '--no-wait',
    'return once it has started',
  );
  if (action === 'download') cmd.option('--stream', 'streamed install: install from a peer without storing the archive');
  cmd.action((id: string, flags) => gameCommand(action, id, flags));
}

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`lanspread: ${message}\n`);
  // Expected failures are one line; anything else is a bug worth its stack.
  const expected = err instanceof ConfigError || err instanceof LanspreadError || err instanceof ApiError;
  if (!expected && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
