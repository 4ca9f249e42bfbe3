// Every component gets its own named child logger; the runtime never prints
// directly. Logs go to stderr (stdout is for what the user asked for): readable
// lines on a terminal, JSON lines otherwise (systemd, containers, tests).
import { pino, destination, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export function createLogger(level: LevelWithSilent = 'info'): Logger {
  if (process.stderr.isTTY) {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination(2));
}

export const silentLogger: Logger = pino({ level: 'silent' });
