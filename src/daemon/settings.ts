/**
 * The part of the configuration (CONFIG-KEYS.md) the planner, executor and loop read.
 * Typed structurally so they accept the full `Config` of src/daemon/config.ts and tests can
 * pass a small literal built from DEFAULT_SETTINGS.
 */
import { DEFAULT_HOTPLUG_CONFIG, type HotplugConfig } from '../hotplug/config.js';

export interface ChurnSettings {
  improvementMargin: number;
  holdCycles: number;
  maxVmsPerCycle: number;
  memoryMigrationMiBPerCycle: number;
  cooldownCycles: number;
}

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

/** The documented defaults of CONFIG-KEYS.md for the keys above. */
export const DEFAULT_SETTINGS: Settings = {
  connect: 'qemu:///system',
  schedule: '*/10 * * * * *',
  mode: 'advisory',
  reservedCpus: '',
  cpuOvercommit: 1.0,
  persistConfig: false,
  churn: { improvementMargin: 0.02, holdCycles: 3, maxVmsPerCycle: 4, memoryMigrationMiBPerCycle: 8192, cooldownCycles: 6 },
  exclude: { names: [], metadata: true },
  shares: { enabled: true, perVcpu: 1024, classes: { gold: 2, silver: 1, bronze: 0.5 }, weights: {} },
  solver: { timeLimitMs: 1000, memoryMoveCostPerGiB: 0.05, vcpuMoveCost: 0.5 },
  emulator: { housekeepingCpus: '' },
  load: { windowCycles: 6 },
  backoff: { initialMs: 10000, maxMs: 300000 },
  stateDir: '/var/lib/numaplace',
  log: { format: 'text', level: 'info' },
  hotplug: DEFAULT_HOTPLUG_CONFIG,
};

/** DEFAULT_SETTINGS with some keys replaced (one level deep for the nested groups). */
export function withSettings(over: { [K in keyof Settings]?: Partial<Settings[K]> | Settings[K] }): Settings {
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [k, v] of Object.entries(over)) {
    const base = (DEFAULT_SETTINGS as unknown as Record<string, unknown>)[k];
    out[k] = base !== null && typeof base === 'object' && !Array.isArray(base) && v !== null && typeof v === 'object' ? { ...base, ...v } : v;
  }
  return out as unknown as Settings;
}
