/**
 * Typed failures of the virsh backend, beyond the exec-level VirshError (virsh-exec.ts).
 * Each says whether trying again later can help (`retryable`), so the apply layer can tell
 * "this VM cannot do that while running" from "libvirt hiccupped".
 */
import { HostActionError, HostLimitationError } from './errors.js';
import { VirshError } from './virsh-exec.js';

/** virsh answered, but not with what we can read (truncated, reformatted, wrong command). */
export class VirshOutputError extends Error {
  readonly retryable = true;
  constructor(readonly what: string, readonly why: string, readonly excerpt = '') {
    super(`cannot read ${what}: ${why}${excerpt ? ` (near ${JSON.stringify(excerpt.slice(0, 80))})` : ''}`);
    this.name = 'VirshOutputError';
  }
}

/** The domain was there when listed and gone when asked about (destroyed/undefined in between). */
export class DomainGoneError extends HostActionError {
  readonly retryable = false;
  constructor(vm: string, options?: { cause?: unknown }) {
    super(vm, 'read', 'the domain disappeared while it was being read or changed (destroyed or undefined meanwhile)');
    if (options?.cause !== undefined) this.cause = options.cause;
    this.name = 'DomainGoneError';
  }
}

/**
 * libvirt/QEMU cannot do this to this VM in its current configuration (e.g. a live nodeset change
 * under numatune mode strict). Not retryable: the VM's definition has to change first. A
 * HostLimitationError, so the apply layer stops proposing it for this VM.
 */
export class LimitationError extends HostLimitationError {
  readonly retryable = false;
  constructor(vm: string, action: string, reason: string, options?: { cause?: unknown }) {
    super(vm, action, `${reason} (a limitation of this VM's configuration, not retryable)`);
    if (options?.cause !== undefined) this.cause = options.cause;
    this.name = 'LimitationError';
  }
}

/** The request itself is wrong (a value out of range, a CPU the host lacks); fix the caller. */
export class InvalidRequestError extends HostActionError {
  readonly retryable = false;
  constructor(vm: string, action: string, detail: string, options?: { cause?: unknown }) {
    super(vm, action, detail);
    if (options?.cause !== undefined) this.cause = options.cause;
    this.name = 'InvalidRequestError';
  }
}

/** The last "error: ..." line of virsh's stderr without the prefix: libvirt's actual reason. */
export function virshReason(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines[lines.length - 1] ?? '';
  return last.replace(/^error:\s*/, '') || 'no message';
}

/** Messages (libvirt 9.0, as captured in test/fixtures/virsh/errors) that mean "this VM cannot, live". */
const LIMITATIONS: [RegExp, string][] = [
  [/change of nodeset for running domain requires restrictive numa mode/,
    "its numatune mode is not 'restrictive', and libvirt changes a running VM's nodeset only in that mode; " +
    "set <numatune><memory mode='restrictive'/> in its definition (takes effect at the next start)"],
  [/can't change numatune mode for running domain/,
    'the numatune mode of a running VM can never change; change it with --config and restart the VM'],
  [/failed to find appropriate hotpluggable vcpus|device_del|not supported device type/,
    'vCPUs cannot be unplugged from this VM live (needs guest OS cooperation)'],
  [/memory hotplug is not enabled|missing acpi device/,
    'memory hot-plug is not enabled for this VM (it needs ACPI, <maxMemory slots=...> and a guest NUMA cell)'],
  [/guest has no NUMA nodes configured|At least one numa node has to be configured/,
    'memory hot-plug needs at least one guest NUMA cell (<cpu><numa><cell .../>)'],
  [/would exceed domain's maxMemory config size/,
    'the dimm would exceed the VM\'s <maxMemory>; raise it (needs a restart)'],
  [/cannot use\/hotplug a memory device when domain 'maxMemory' is not defined/,
    'the VM has no <maxMemory slots=...>; memory hot-plug needs it (needs a restart)'],
  [/requested vcpus is greater than max allowable vcpus/,
    'that is more vCPUs than the VM\'s maximum (<vcpu> in its definition; raising it needs a restart)'],
  [/domain is not running/,
    'the VM is not running: live changes need a running VM (use --config for a shut-off one)'],
];

/** Messages that mean the caller asked for something impossible on this host. */
const INVALID: RegExp[] = [
  /must be in range/,
  /exceed the maxcpu/,
  /is out of range of live cpu count/,
  /NUMA node \d+ is unavailable/,
  /guest has only '\d+' NUMA nodes configured/,
  /Invalid value/i,
  /invalid argument/,
];

const GONE = /failed to get domain|Domain not found|no domain with matching/;

/**
 * Turn a failed action's VirshError into the typed error that says what to do about it;
 * anything unrecognised stays a VirshError (retryable: libvirt may just be busy).
 */
export function classifyActionError(err: unknown, vm: string, action: string): Error {
  if (!(err instanceof VirshError) || err.timedOut) return err instanceof Error ? err : new Error(String(err));
  const reason = virshReason(err.stderr);
  if (GONE.test(err.stderr)) return new DomainGoneError(vm, { cause: err });
  // Earlier lines name the operation ("Unable to change numa parameters"); the last one says why.
  for (const [re, why] of LIMITATIONS) {
    if (re.test(err.stderr)) return new LimitationError(vm, action, `${why} (libvirt: ${reason})`, { cause: err });
  }
  if (INVALID.some((re) => re.test(err.stderr))) return new InvalidRequestError(vm, action, reason, { cause: err });
  return err;
}

/** True when a batch's stderr says this domain could not be found. */
export function stderrSaysGone(stderr: string, vm: string): boolean {
  return stderr.split('\n').some((line) => line.includes(`failed to get domain '${vm}'`) || (line.includes('Domain not found') && line.includes(vm)));
}
