/**
 * node-cron logs by itself (console.warn with ANSI colours: "missed execution ... Possible blocking
 * IO"), which breaks `log.format=json` and puts escape codes in the journal. Its messages go through
 * the daemon's logger instead, as ordinary lines with `source=node-cron`.
 */
import type { Logger } from './log.js';

export interface CronLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string | Error, err?: Error): void;
  debug(message: string | Error, err?: Error): void;
}

const text = (m: unknown) => (m instanceof Error ? m.message : String(m));

export function cronLogger(logger: Logger): CronLogger {
  return {
    info: (m) => logger.debug(text(m), { source: 'node-cron' }),
    warn: (m) => logger.warn(text(m), { source: 'node-cron' }),
    error: (m, err) => logger.error(text(m), { source: 'node-cron', ...(err ? { error: text(err) } : {}) }),
    debug: (m, err) => logger.debug(text(m), { source: 'node-cron', ...(err ? { error: text(err) } : {}) }),
  };
}
