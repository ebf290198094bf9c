/**
 * What the guest itself says about its vCPUs (seed: hot-plugged CPUs come online
 * only if the guest OS onlines them). `virsh guestvcpus DOM` asks qemu-guest-agent
 * and prints one "name : cpuset" line per field:
 *
 *   vcpus          : 0-3
 *   online         : 0-1
 *   offlinable     : 1
 *
 * Without an agent it fails ("QEMU guest agent is not configured"): unknown.
 */
import { parseCpuSet } from '../core/cpuset.js';

export interface GuestVcpus {
  vcpus: number[];
  online: number[];
  offlinable: number[];
}

export class GuestVcpusParseError extends Error {
  constructor(readonly text: string, why: string) {
    super(`cannot read \`virsh guestvcpus\` output: ${why}`);
    this.name = 'GuestVcpusParseError';
  }
}

export function parseGuestVcpus(stdout: string): GuestVcpus {
  const fields = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^\s*([a-z_]+)\s*:\s*(.*?)\s*$/.exec(line);
    if (m) fields.set(m[1], m[2]);
  }
  const get = (k: keyof GuestVcpus, required: boolean): number[] => {
    const v = fields.get(k);
    if (v === undefined) {
      if (required) throw new GuestVcpusParseError(stdout, `no "${k}" line`);
      return [];
    }
    try {
      return parseCpuSet(v, { allowEmpty: true });
    } catch (e) {
      throw new GuestVcpusParseError(stdout, `"${k}" is not a vCPU set: ${(e as Error).message}`);
    }
  };
  return { vcpus: get('vcpus', true), online: get('online', true), offlinable: get('offlinable', false) };
}

/** The stderr of a guestvcpus call that failed only because no agent answers: the answer is "unknown". */
export function isNoGuestAgent(stderr: string): boolean {
  return /guest agent is not (configured|connected|responding|available)|agent.*not.*(connected|responding)/i.test(stderr);
}
