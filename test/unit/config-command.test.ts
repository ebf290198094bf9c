import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { DEFAULT_CONFIG } from '../../src/daemon/config.js';

/** The installed binary, as a process (one test: the exit status and streams for real). */
const spawnCli = (args: string[]) => execa(process.execPath, ['bin/numaplace.js', ...args], { reject: false, stdin: 'ignore' });

/** main() in this process, its output captured (fast). */
async function cli(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((c: string) => ((stdout += c), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => ((stderr += c), true)) as typeof process.stderr.write;
  try {
    const exitCode = await main(args);
    return { exitCode, stdout: stdout.trimEnd(), stderr: stderr.trimEnd() };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe('numaplace config', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'np-config-cmd-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the effective configuration: file, defaults, then flags', async () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ mode: 'apply', churn: { holdCycles: 5 } }));
    const r = await cli(['config', '--config', file, '--reserved-cpus', '0-1,^1']);
    expect(r.exitCode, r.stderr).to.equal(0);
    const c = JSON.parse(r.stdout);
    expect(c.mode).to.equal('apply');
    expect(c.churn.holdCycles).to.equal(5);
    expect(c.reservedCpus).to.equal('0');
    expect(c.hotplug).to.deep.equal(JSON.parse(JSON.stringify(DEFAULT_CONFIG.hotplug)));
  });

  it('exits 2 with one line naming the file and the key', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"metrics": {"port": 0}}');
    const r = await spawnCli(['config', '--config', file]);
    expect(r.exitCode).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal(`numaplace config: ${file}: metrics.port: got 0, expected an integer from 1 to 65535`);
  });

  it('exits 2 naming a bad flag value', async () => {
    const r = await cli(['config', '--mode', 'on']);
    expect(r.exitCode).to.equal(2);
    expect(r.stderr).to.equal('numaplace config: command line: --mode: got "on", expected "advisory" or "apply"');
  });

  it('prints help', async () => {
    const r = await cli(['config', '--help']);
    expect(r.exitCode).to.equal(0);
    expect(r.stdout).to.match(/^usage: numaplace config/);
  });
});
