/**
 * Why a hot-plug was not done. A code (a metric label, stable) and a sentence for
 * the log that names the constraint and what to do.
 *
 * Lasting causes (the VM's definition forbids it) are remembered until the VM
 * changes, so they are logged once and not retried every cycle; transient ones
 * (host full, guest memory too low for the 1:32 rule) are a metric only and
 * re-evaluated each cycle while the trigger holds.
 */

import type { HotplugKind, RefusalCode } from '../core/refusal-codes.js';

export type { HotplugKind, MemoryRefusalCode, RefusalCode, VcpuRefusalCode } from '../core/refusal-codes.js';

export interface HotplugRefusal {
  vm: string;
  kind: HotplugKind;
  code: RefusalCode;
  message: string;
  /** A lasting cause: remembered until the VM changes. */
  lasting: boolean;
  /** True when this refusal was already reported in an earlier cycle (log it once, count it once). */
  repeated: boolean;
}

/** Causes that can clear without the VM's definition or state changing. */
const TRANSIENT: ReadonlySet<RefusalCode> = new Set<RefusalCode>(['host-full', 'host-memory', 'ratio-1-32']);

export function isLasting(code: RefusalCode): boolean {
  return !TRANSIENT.has(code);
}

/** Transient refusals are a metric only (no log line): they may repeat every cycle. */
export function shouldLog(r: HotplugRefusal): boolean {
  return r.lasting && !r.repeated;
}

/** The `refused` entry of the plan/apply JSON contract. */
export function refusalReason(r: HotplugRefusal): string {
  return `${r.kind} hot-plug refused (${r.code}): ${r.message}`;
}
