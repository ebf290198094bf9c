/**
 * The Debian package, installed for real on a plain Debian 12 (a debootstrap minbase tree, no
 * Node.js in it): `apt-get install ./numaplace_*.deb`, then `numaplace --version`, `topology` and
 * `run --simulate` confined as the unit confines the daemon (no capabilities, no_new_privs, a
 * read-only root but its state directory), then remove and purge, leaving nothing behind.
 * Needs root, debootstrap and Debian's mirror (~2 min the first time, the tree is cached): runs
 * under CI=true or NUMAPLACE_TEST_DEB=1, else it is skipped with that reason.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from '../helpers/wait.js';
import { skipSuite } from '../helpers/skip.js';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const CONFINED = resolve('test/helpers/run-confined.sh');
/** A clean environment, as systemd gives a unit. */
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

function run(cmd: string, args: string[], timeout = 300_000) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, env: ENV });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

function must(cmd: string, args: string[], timeout?: number): string {
  const r = run(cmd, args, timeout);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.out}`);
  return r.stdout;
}

/** Every path in the tree but the ones package tools keep for themselves. */
function listing(root: string): string[] {
  return must('chroot', [root, 'find', '/', '-xdev', '-not', '-path', '/var/lib/dpkg/*', '-not', '-path', '/var/lib/apt/*',
    '-not', '-path', '/var/cache/*', '-not', '-path', '/var/log/*', '-not', '-path', '/tmp/*', '-not', '-path', '/proc/*', '-not', '-path', '/sys/*'])
    .split('\n').filter(Boolean).sort();
}

describe('Debian package on a plain Debian 12', function () {
  this.timeout(900_000);
  let work: string;
  let root: string;
  let deb: string;
  let pristineListing: string[];

  before(function () {
    if (process.env.CI !== 'true' && process.env.NUMAPLACE_TEST_DEB !== '1') {
      skipSuite(this, 'it installs a .deb into a debootstrap tree (root, Debian mirror, ~2 min)', 'NUMAPLACE_TEST_DEB=1 npm test (CI=true runs it)');
    }
    if (process.getuid?.() !== 0) throw new Error('the package test needs root (debootstrap, chroot, mount namespaces)');
    work = mkdtempSync(join(tmpdir(), 'np-deb-'));
    deb = must('bash', ['scripts/package-deb.sh', join(work, 'out')]).trim();
    const pristine = must('bash', ['scripts/debian-root.sh'], 600_000).trim();
    root = join(work, 'root');
    must('cp', ['-a', pristine, root]); // device nodes included, which fs.cpSync cannot copy
    copyFileSync('/etc/resolv.conf', join(root, 'etc/resolv.conf'));
    pristineListing = listing(root);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('carries its runtime, unit, conffile and man page', () => {
    const contents = must('dpkg-deb', ['--contents', deb]);
    for (const path of ['./usr/bin/numaplace', './usr/lib/numaplace/bin/node', './lib/systemd/system/numaplace.service',
      './etc/numaplace/numaplace.json', './usr/share/man/man8/numaplace.8.gz', './usr/share/doc/numaplace/copyright',
      './usr/share/doc/numaplace/grafana-dashboard.json']) {
      expect(contents).to.include(path);
    }
    expect(contents).not.to.match(/node_modules\/(typescript|mocha|highs|echarts)\//);
    expect(must('dpkg-deb', ['--field', deb, 'Version']).trim()).to.equal(VERSION);
    expect(must('dpkg-deb', ['--info', deb, 'conffiles']).trim()).to.equal('/etc/numaplace/numaplace.json');
  });

  it('installs with apt on a Debian 12 that has no Node.js, and answers --version and topology', () => {
    expect(run('chroot', [root, 'sh', '-c', 'command -v node']).code).to.not.equal(0);
    copyFileSync(deb, join(root, 'tmp/numaplace.deb'));
    must('chroot', [root, 'apt-get', 'update', '-q']);
    must('chroot', [root, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-install-recommends', '/tmp/numaplace.deb']);
    expect(must('chroot', [root, 'numaplace', '--version'])).to.equal(`numaplace ${VERSION} (node ${process.version})\n`);
    const topo = JSON.parse(must(CONFINED, [root, '/var/lib/numaplace', 'numaplace', 'topology', '--sysfs', '/sys', '--json'])) as { nodes: unknown[] };
    expect(topo.nodes.length).to.be.greaterThan(0);
    const unit = readFileSync(join(root, 'lib/systemd/system/numaplace.service'), 'utf8');
    expect(unit).to.match(/^ExecStart=\/usr\/bin\/numaplace run --config \/etc\/numaplace\/numaplace.json$/m);
    // The packaged default configuration is valid as shipped.
    must('chroot', [root, 'numaplace', 'config', '--config', '/etc/numaplace/numaplace.json']);
    // The one FFI works on a plain Debian: koffi's prebuilt binary calls move_pages(2) from libnuma1 (a
    // Depends), in query mode on a page of its own.
    const probe = [
      "import { createRequire } from 'node:module';",
      "import { queryRange } from '/usr/lib/numaplace/dist/src/host/move-pages.js';",
      "const koffi = createRequire('/usr/lib/numaplace/')('koffi');",
      'const b = Buffer.alloc(16384, 1);',
      'const start = (BigInt(koffi.address(b)) + 4095n) & ~4095n;',
      'console.log(JSON.stringify(await queryRange(0, { start, end: start + 4096n }, { pageSize: 4096 })));',
    ].join('\n');
    const q = JSON.parse(must('chroot', [root, '/usr/lib/numaplace/bin/node', '--input-type=module', '-e', probe])) as { pages: number; absent: number; MiBByNode: Record<string, number> };
    expect([q.pages, q.absent, Object.keys(q.MiBByNode).length]).to.deep.equal([1, 0, 1]);
  });

  it('runs the daemon on the simulated host confined as the unit confines it, and is scraped', async () => {
    const port = await freePort();
    writeFileSync(join(root, 'etc/numaplace/simulated.json'), JSON.stringify({
      schedule: '* * * * * *', mode: 'apply', stateDir: '/var/lib/numaplace', metrics: { enabled: true, address: '127.0.0.1', port },
    }));
    const child = spawn(CONFINED, [root, '/var/lib/numaplace', 'numaplace', 'run', '--simulate', 'steady-4x16', '--config', '/etc/numaplace/simulated.json'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      let text = '';
      await waitFor(() => `two successful cycles scraped; daemon log:\n${log}`, async () => {
        try { text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(); } catch { return false; }
        const m = /^numaplace_cycles_total\{outcome="success"\} (\d+)/m.exec(text);
        return m !== null && Number(m[1]) >= 2;
      }, 60_000);
      expect(text).to.include(`numaplace_build_info{version="${VERSION}",node_version="${process.version}"} 1`);
      expect(existsSync(join(root, 'var/lib/numaplace'))).to.equal(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, log).to.equal(0);
  });

  it('remove keeps the configuration; purge leaves the system as it was', () => {
    must('chroot', [root, 'dpkg', '--remove', 'numaplace']);
    expect(existsSync(join(root, 'usr/lib/numaplace'))).to.equal(false);
    expect(existsSync(join(root, 'usr/bin/numaplace'))).to.equal(false);
    expect(existsSync(join(root, 'etc/numaplace/numaplace.json'))).to.equal(true);
    rmSync(join(root, 'etc/numaplace/simulated.json'));
    must('chroot', [root, 'dpkg', '--purge', 'numaplace']);
    // procps and libnuma1 came as dependencies: take them out too, then compare with the tree before the install.
    must('chroot', [root, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'autoremove', '--purge', '-y', '-q']);
    rmSync(join(root, 'tmp/numaplace.deb'), { force: true });
    const after = listing(root);
    const left = after.filter((p) => !pristineListing.includes(p));
    const taken = pristineListing.filter((p) => !after.includes(p));
    expect(left, `left behind: ${left.join(' ')}`).to.deep.equal([]);
    expect(taken, `taken away: ${taken.join(' ')}`).to.deep.equal([]);
  });
});
