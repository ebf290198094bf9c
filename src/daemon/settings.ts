/**
 * The part of the configuration the planner, executor and loop read: the config table's Config
 * (src/core/config-table.ts) without the keys only `numaplace run` itself uses at start.
 * Tests build one from DEFAULT_SETTINGS with withSettings.
 */
import { DEFAULT_CONFIG, type Config } from '../core/config-table.js';

export type { ChurnSettings } from '../plan/churn.js';

export type Settings = Omit<Config, 'virsh' | 'metrics'>;

/** The documented defaults. */
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
