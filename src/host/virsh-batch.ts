/**
 * Several virsh commands in ONE virsh process: `virsh -c URI 'cmd1 ...; echo MARK; cmd2 ...'`.
 * This is virsh's own command language (not a shell: no expansion of $(...), globs or variables),
 * but it does split on blanks and ';' and strips quotes, so every argument is quoted for it here.
 * Each command's output is bracketed by `echo` markers carrying a random nonce, so output that
 * happens to contain a marker-like line (a VM description, say) cannot be mistaken for one.
 */
import { randomBytes } from 'node:crypto';
import { VirshOutputError } from './virsh-errors.js';

/**
 * Quote one argument for virsh's command parser (vshCommandStringGetArg): inside single quotes
 * everything is literal up to the next single quote; a single quote itself is closed, escaped, reopened.
 */
export function quoteVirshArg(arg: string): string {
  if (arg.includes('\n') || arg.includes('\0')) {
    // virsh cannot carry these inside one argument of its command language; libvirt names cannot hold them.
    throw new VirshOutputError('a batch argument', `it contains a newline or NUL: ${JSON.stringify(arg)}`);
  }
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface Batch {
  /** The single argument to give virsh. */
  script: string;
  nonce: string;
  count: number;
}

/** Build one virsh batch from argument arrays (each like ['vcpupin', '--domain', name]). */
export function buildBatch(commands: readonly (readonly string[])[], nonce = randomBytes(6).toString('hex')): Batch {
  const parts: string[] = [];
  commands.forEach((cmd, i) => {
    if (cmd.length === 0) throw new VirshOutputError('a batch', `command ${i} is empty`);
    parts.push(`echo ${marker(nonce, String(i))}`, cmd.map(quoteVirshArg).join(' '));
  });
  parts.push(`echo ${marker(nonce, 'end')}`);
  return { script: parts.join('; '), nonce, count: commands.length };
}

function marker(nonce: string, what: string): string {
  return `@@numaplace-${nonce}:${what}@@`;
}

/**
 * Split a batch's stdout into each command's output (trimmed of the blank lines virsh adds).
 * A failed command leaves its section empty (its message is on stderr). A missing end marker means the
 * process stopped part-way: a VirshOutputError.
 */
export function splitBatchOutput(stdout: string, batch: Pick<Batch, 'nonce' | 'count'>): string[] {
  const sections: string[] = [];
  let current: string[] | null = null;
  let expected = 0;
  let ended = false;
  for (const raw of stdout.split('\n')) {
    // A command whose output lacks a final newline glues the next marker to its last line.
    let line = raw;
    const next = [marker(batch.nonce, String(expected)), marker(batch.nonce, 'end')].find((m) => raw.endsWith(m) && raw !== m);
    if (next !== undefined) {
      if (current) current.push(raw.slice(0, -next.length));
      line = next;
    }
    if (line === marker(batch.nonce, String(expected))) {
      if (current) sections.push(current.join('\n').trim());
      current = [];
      expected++;
      continue;
    }
    if (line === marker(batch.nonce, 'end')) {
      if (current) sections.push(current.join('\n').trim());
      current = null;
      ended = true;
      continue;
    }
    if (ended && line.trim() !== '') throw new VirshOutputError('a virsh batch', 'output after its end marker', line);
    if (current) current.push(line);
    else if (line.trim() !== '') throw new VirshOutputError('a virsh batch', 'output before its first marker', line);
  }
  if (!ended || sections.length !== batch.count) {
    throw new VirshOutputError('a virsh batch', `it stopped after ${sections.length} of ${batch.count} commands (no end marker): virsh was cut short`);
  }
  return sections;
}
