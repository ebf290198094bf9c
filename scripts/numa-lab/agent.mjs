// NUMA lab agent: runs inside the lab guest (Node over the machine's root on 9p) and executes the
// host's requests, found as files in a writable 9p export (9p has no inotify: polled).
//   IO/req/ID.json   {"argv": [...], "timeoutMs": N, "env": {...}, "stdin": "..."}   (written by the host, renamed into place)
//   IO/res/ID.json   {"code", "signal", "timedOut", "ms", "stdout", "stderr"}        (written here, renamed into place)
//   IO/kill/ID       the host asks for request ID's process group to be killed
//   argv ["@poweroff"] ends the agent (the guest powers off).
// Commands run with argument arrays (no shell unless the argv names one), each in its own process
// group, killed with SIGKILL at timeoutMs.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const io = process.argv[2];
const running = new Map();
const started = new Set();
let stopping = false;

function respond(id, body) {
  const tmp = join(io, 'res', `.${id}.tmp`);
  writeFileSync(tmp, JSON.stringify(body));
  renameSync(tmp, join(io, 'res', `${id}.json`));
}

function start(id, req) {
  const t0 = Date.now();
  if (req.argv?.[0] === '@poweroff') { respond(id, { code: 0, signal: null, timedOut: false, ms: 0, stdout: '', stderr: '' }); stopping = true; return; }
  let child;
  try {
    child = spawn(req.argv[0], req.argv.slice(1), {
      env: { ...process.env, ...(req.env ?? {}) }, cwd: req.cwd ?? '/', detached: true, stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    respond(id, { code: 127, signal: null, timedOut: false, ms: 0, stdout: '', stderr: String(e) });
    return;
  }
  const out = [], err = [];
  let timedOut = false;
  child.stdout.on('data', (b) => out.push(b));
  child.stderr.on('data', (b) => err.push(b));
  child.stdin.on('error', () => {});
  child.stdin.end(req.stdin ?? '');
  const timer = setTimeout(() => { timedOut = true; killGroup(child); }, req.timeoutMs ?? 600000);
  running.set(id, child);
  let spawnErr = '';
  child.on('error', (e) => { spawnErr = String(e); });
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    running.delete(id);
    respond(id, {
      code: code ?? (spawnErr ? 127 : null), signal, timedOut, ms: Date.now() - t0,
      stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') + spawnErr,
    });
  });
}

function killGroup(child) {
  try { process.kill(-child.pid, 'SIGKILL'); } catch { try { child.kill('SIGKILL'); } catch { /* gone */ } }
}

function poll() {
  try {
    for (const f of readdirSync(join(io, 'req'))) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      const id = f.slice(0, -5);
      if (started.has(id)) continue;
      started.add(id);
      let req;
      try { req = JSON.parse(readFileSync(join(io, 'req', f), 'utf8')); } catch (e) {
        respond(id, { code: 127, signal: null, timedOut: false, ms: 0, stdout: '', stderr: `bad request: ${e}` });
        continue;
      }
      rmSync(join(io, 'req', f), { force: true });
      start(id, req);
    }
    for (const f of readdirSync(join(io, 'kill'))) {
      const child = running.get(f);
      if (child) killGroup(child);
      rmSync(join(io, 'kill', f), { force: true });
    }
  } catch (e) {
    console.error(`numa-lab agent: ${e}`);
  }
  if (stopping) { for (const c of running.values()) killGroup(c); process.exit(0); }
  setTimeout(poll, 100);
}

if (!io || !existsSync(join(io, 'req'))) { console.error('usage: agent.mjs IO_DIR (with req/ res/ kill/)'); process.exit(2); }
writeFileSync(join(io, 'ready'), JSON.stringify({ uptime: Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) }));
console.error('numa-lab: agent ready');
poll();
