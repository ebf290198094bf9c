/**
 * A fake `virsh` for unit tests: a small Node script written to a temp dir that answers from a
 * table of canned (real, captured) outputs. It understands virsh's batch mode the way the backend
 * uses it: one argument holding commands separated by ';', arguments quoted '...' with '\'' for a
 * quote; `echo` prints its arguments. Every invocation is appended to log.jsonl.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeResponse {
  stdout?: string;
  stderr?: string;
  /** Exit status when this is the only (non-batch) command. */
  exit?: number;
}

export interface FakeConfig {
  /** Keyed by the command's arguments joined with single spaces, e.g. "vcpupin --domain web1". */
  responses: Record<string, FakeResponse>;
  /** Never answer (to test timeouts). */
  hang?: boolean;
  /** Stop printing after this many commands of a batch (a virsh that died part-way). */
  dieAfter?: number;
}

const SCRIPT = String.raw`#!/usr/bin/env node
const fs = require('fs'); const path = require('path');
const dir = path.dirname(process.argv[1]);
const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
let args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'log.jsonl'), JSON.stringify(args) + '\n');
if (cfg.hang) { setInterval(() => {}, 1000); return; }
if (args[0] === '-c') args = args.slice(2);
function tokenize(s) {
  const cmds = []; let cur = []; let tok = null; let i = 0; let sq = false;
  const end = () => { if (tok !== null) { cur.push(tok); tok = null; } };
  for (; i < s.length; i++) {
    const c = s[i];
    if (sq) { if (c === "'") sq = false; else tok += c; continue; }
    if (c === "'") { sq = true; tok = tok ?? ''; continue; }
    if (c === '\\') { tok = (tok ?? '') + s[++i]; continue; }
    if (c === ' ' || c === '\t') { end(); continue; }
    if (c === ';') { end(); cmds.push(cur); cur = []; continue; }
    tok = (tok ?? '') + c;
  }
  end(); if (cur.length) cmds.push(cur);
  return cmds;
}
const cmds = args.length === 1 ? tokenize(args[0]) : [args];
let out = ''; let err = ''; let status = 0; let n = 0;
for (const cmd of cmds) {
  if (cfg.dieAfter !== undefined && n++ >= cfg.dieAfter) { process.stdout.write(out); process.exit(1); }
  if (cmd[0] === 'echo') { out += cmd.slice(1).join(' ') + '\n'; status = 0; continue; }
  const key = cmd.join(' ');
  if (cmd[0] === 'attach-device') { const f = cmd[cmd.indexOf('--file') + 1]; fs.appendFileSync(path.join(dir, 'files.log'), fs.readFileSync(f, 'utf8')); }
  const r = cfg.responses[key];
  if (!r) { err += "error: fake virsh has no answer for: " + key + "\n"; out += '\n'; status = 1; continue; }
  out += r.stdout ?? ''; err += r.stderr ?? ''; status = r.exit ?? 0;
}
process.stdout.write(out); process.stderr.write(err); process.exit(status);
`;

export class FakeVirsh {
  readonly dir: string;
  readonly binary: string;
  constructor(config: FakeConfig) {
    this.dir = mkdtempSync(join(tmpdir(), 'numaplace-fake-virsh-'));
    this.binary = join(this.dir, 'virsh');
    writeFileSync(this.binary, SCRIPT);
    chmodSync(this.binary, 0o755);
    this.configure(config);
  }
  configure(config: FakeConfig): void {
    writeFileSync(join(this.dir, 'config.json'), JSON.stringify(config));
  }
  /** Argument vectors of every invocation so far. */
  calls(): string[][] {
    try {
      return readFileSync(join(this.dir, 'log.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
    } catch {
      return [];
    }
  }
  /** Contents of the files given to attach-device, as the fake saw them. */
  attachedFiles(): string {
    try {
      return readFileSync(join(this.dir, 'files.log'), 'utf8');
    } catch {
      return '';
    }
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const FIXTURES = 'test/fixtures/virsh';
export const MACHINE = 'debian12-libvirt9-tcg';
/** Read a captured fixture (relative to test/fixtures/virsh, machine prefix added). */
export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, `${MACHINE}-${name}`), 'utf8');
}
export function errorFixture(name: string): string {
  return readFileSync(join(FIXTURES, 'errors', `${MACHINE}-${name}`), 'utf8');
}
