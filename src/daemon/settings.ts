/**
 * The part of the configuration (src/daemon/config.ts) the planner, executor and loop read.
 * Typed structurally so they accept the full `Config` of src/daemon/config.ts and tests can
 * pass a small literal built from DEFAULT_SETTINGS.
 */
import type { HotplugConfig } from '../hotplug/config.js';
import type { ChurnSettings } from '../plan/churn.js';
import { DEFAULT_CONFIG } from './config.js';

export type { ChurnSettings } from '../plan/churn.js';

export interface Settings {
  connect: string;
  schedule: string;
  mode: 'advisory' | 'apply';
  reservedCpus: string;
  cpuOvercommit: number;
  persistConfig: boolean;
  churn: ChurnSettings;
  exclude: { names: readonly string[]; metadata: boolean };
  shares: { enabled: boolean; perVcpu: number; classes: Readonly<Record<string, number>>; weights: Readonly<Record<string, number>> };
  solver: { timeLimitMs: number; memoryMoveCostPerGiB: number; vcpuMoveCost: number };
  emulator: { housekeepingCpus: string };
  load: { windowCycles: number };
  backoff: { initialMs: number; maxMs: number };
  stateDir: string;
  log: { format: 'text' | 'json'; level: 'debug' | 'info' | 'warn' | 'error' };
  hotplug: HotplugConfig;
}

/** The documented defaults (src/daemon/config.ts). */
export const DEFAULT_SETTINGS: Settings = DEFAULT_CONFIG;

/** DEFAULT_SETTINGS with some keys replaced (one level deep for the nested groups). */
export function withSettings(over: { [K in keyof Settings]?: Partial<Settings[K]> | Settings[K] }): Settings {
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [k, v] of Object.entries(over)) {
    const base = (DEFAULT_SETTINGS as unknown as Record<string, unknown>)[k];
    out[k] = base !== null && typeof base === 'object' && !Array.isArray(base) && v !== null && typeof v === 'object' ? { ...base, ...v } : v;
  }
  return out as unknown as Settings;
}
