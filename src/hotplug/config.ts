/**
 * The hotplug.* configuration keys, as typed by the config table (src/core/config-table.ts,
 * documented in config/README.md). Hot-plug reads only these; node capacity comes from the
 * cycle's host view.
 */
import { DEFAULT_CONFIG, type Config } from '../core/config-table.js';

export type HotplugConfig = Config['hotplug'];
export type VcpuHotplugConfig = HotplugConfig['vcpu'];
export type MemoryHotplugConfig = HotplugConfig['memory'];

/** What planHotplug reads from the daemon's settings. */
export type HotplugPlanConfig = Pick<Config, 'hotplug'>;

export const DEFAULT_HOTPLUG_CONFIG: HotplugConfig = DEFAULT_CONFIG.hotplug;
