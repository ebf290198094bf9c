/** The daemon's log lines: levels filtered, and under journald each line carries its syslog priority. */
import { expect } from 'chai';
import { createLogger, stderrIsJournal } from '../../src/daemon/log.js';

describe('logger', () => {
  const now = () => new Date('2026-12-06T00:00:00.000Z');

  it('under journald each line starts with its syslog priority, text or JSON', () => {
    for (const format of ['text', 'json'] as const) {
      const lines: string[] = [];
      const log = createLogger({ format, level: 'debug', write: (l) => lines.push(l), now, syslogPrefix: true });
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
      expect(lines.map((l) => l.slice(0, 3))).to.deep.equal(['<7>', '<6>', '<4>', '<3>']);
      if (format === 'json') expect(JSON.parse(lines[1].slice(3))).to.include({ level: 'info', msg: 'i' });
    }
  });

  it('without journald the lines are plain, and levels below the threshold are dropped', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'text', level: 'warn', write: (l) => lines.push(l), now });
    log.info('dropped');
    log.warn('kept', { vm: 'web1' });
    expect(lines).to.deep.equal(['2026-12-06T00:00:00.000Z warn  kept vm=web1']);
  });

  it('stderr is journald only when systemd says so (JOURNAL_STREAM)', () => {
    expect(stderrIsJournal({ JOURNAL_STREAM: '8:12345' })).to.equal(true);
    expect(stderrIsJournal({})).to.equal(false);
    expect(stderrIsJournal({ JOURNAL_STREAM: '' })).to.equal(false);
  });
});
