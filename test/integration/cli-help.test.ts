/** The command line's help for people: help COMMAND, "did you mean", the default configuration file. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { closest, editDistance } from '../../src/core/did-you-mean.js';
import { defaultConfigPath, SYSTEM_CONFIG_PATH } from '../../src/daemon/config.js';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/numaplace.js', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI help', () => {
  it('edit distance and the closest known name', () => {
    expect(editDistance('conect', 'connect')).to.equal(1);
    expect(editDistance('', 'abc')).to.equal(3);
    expect(closest('conect', ['connect', 'config', 'simulate'])).to.equal('connect');
    expect(closest('reserved-cpu', ['reserved-cpus', 'json'])).to.equal('reserved-cpus');
    expect(closest('frobnicate', ['connect', 'config', 'json'])).to.equal(null);
    expect(editDistance('Connect', 'connect')).to.equal(0);
  });

  it('a mistyped flag is exit 2 with one line that names the flag meant', () => {
    const r = cli(['plan', '--simulate', 'steady-4x16', '--conect', 'qemu:///system']);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.deep.equal(["numaplace plan: Unknown option '--conect'; did you mean --connect? (--help lists the options)"]);
  });

  it('a mistyped command suggests the command', () => {
    const r = cli(['topolgy']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/unknown command "topolgy"; did you mean topology\?/);
  });

  it('help COMMAND prints the command\'s own help', () => {
    const viaHelp = cli(['help', 'run']);
    expect(viaHelp.code).to.equal(0);
    expect(viaHelp.stdout).to.equal(cli(['run', '--help']).stdout);
    expect(viaHelp.stdout).to.match(/^usage: numaplace run/);
  });

  it('the default configuration file: NUMAPLACE_CONFIG, else /etc/numaplace/numaplace.json when present, else none', () => {
    expect(defaultConfigPath({ NUMAPLACE_CONFIG: '/srv/np.json' }, () => true)).to.equal('/srv/np.json');
    expect(defaultConfigPath({ NUMAPLACE_CONFIG: '' }, () => true)).to.equal(undefined);
    expect(defaultConfigPath({}, (p) => p === SYSTEM_CONFIG_PATH)).to.equal(SYSTEM_CONFIG_PATH);
    expect(defaultConfigPath({}, () => false)).to.equal(undefined);
  });

  it('every command reads the default file when no --config is given, and --config overrides it', () => {
    const env = (file: string) => ({ ...process.env, NUMAPLACE_CONFIG: file });
    const run = (args: string[], file: string) => spawnSync(process.execPath, ['bin/numaplace.js', ...args], { encoding: 'utf8', env: env(file) });
    const bad = run(['config'], '/nonexistent/numaplace.json');
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.include('/nonexistent/numaplace.json');
    const ok = run(['config', '--config', 'config/simulated-demo.json'], '/nonexistent/numaplace.json');
    expect(ok.status, ok.stderr).to.equal(0);
    expect(JSON.parse(ok.stdout).mode).to.equal('apply');
    const plan = run(['plan', '--simulate', 'steady-4x16'], '/nonexistent/numaplace.json');
    expect(plan.status).to.equal(2);
  });
});
