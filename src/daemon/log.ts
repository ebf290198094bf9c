/** Structured logs: one line per event, text for people or JSON for collectors (config log.format). */

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type Fields = Record<string, unknown>;

export interface Logger {
  log(level: Level, msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

/** Control and format characters (CR, ESC, U+202E right-to-left override, ...) never reach a log raw. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const escapeUnsafe = (s: string) => s.replace(UNSAFE, (c) => [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));

function textValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (s === undefined) return 'undefined';
  return /^[^\s"=\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u.test(s) ? s : escapeUnsafe(JSON.stringify(s));
}

/** syslog priorities (sd-daemon(3)): journald reads a leading "<N>" as the line's PRIORITY. */
const SYSLOG_PRIORITY: Record<Level, number> = { debug: 7, info: 6, warn: 4, error: 3 };

/** Whether stderr goes to journald (systemd sets JOURNAL_STREAM for a unit's stdout/stderr). */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  return typeof env.JOURNAL_STREAM === 'string' && env.JOURNAL_STREAM !== '';
}

export function createLogger(opts: { format: 'text' | 'json'; level: Level; write?: (line: string) => void; now?: () => Date; syslogPrefix?: boolean }): Logger {
  const out = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  // Under journald each line carries its priority, so `journalctl -p warning` and colours work.
  const write = opts.syslogPrefix ? (line: string, level: Level) => out(`<${SYSLOG_PRIORITY[level]}>${line}`) : (line: string) => out(line);
  const now = opts.now ?? (() => new Date());
  const log = (level: Level, msg: string, fields: Fields = {}) => {
    if (RANK[level] < RANK[opts.level]) return;
    const time = now().toISOString();
    if (opts.format === 'json') {
      write(escapeUnsafe(JSON.stringify({ time, level, msg, ...fields })), level);
      return;
    }
    msg = escapeUnsafe(msg);
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${textValue(v)}`)
      .join(' ');
    write(`${time} ${level.padEnd(5)} ${msg}${extra ? ' ' + extra : ''}`, level);
  };
  return {
    log,
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

/** A logger that says nothing (`numaplace plan` / `apply` print their own result). */
export const SILENT_LOGGER: Logger = createLogger({ format: 'text', level: 'error', write: () => {} });

/** A logger that keeps lines in memory (tests). */
export function memoryLogger(level: Level = 'debug', format: 'text' | 'json' = 'json'): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ format, level, write: (l) => lines.push(l) }), { lines });
}
