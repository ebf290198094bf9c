/**
 * The closed-loop suite: which scenarios run, for how long, and what the targets assume of them.
 * Scenario files are written by benchmarks/scenarios/generate.ts.
 */
import type { ScenarioSpec } from './harness.js';

export interface SuiteEntry extends Omit<ScenarioSpec, 'file'> {
  name: string;
  /** Part of the --quick run (with its duration cut to quickDurationS). */
  quick: boolean;
  quickDurationS: number;
  /** The steady scenario(s) of the "fewer MiB migrated than numad" target. */
  steady?: boolean;
}

const entry = (name: string, durationS: number, o: Partial<SuiteEntry> = {}): SuiteEntry => ({
  name, durationS, measureEveryS: 30, cpuOvercommit: 1, capacityAllows: true, quick: false, quickDurationS: 900, ...o,
});

/**
 * Durations: long enough for steady state (every policy settles within minutes; the diurnal day
 * is 20 minutes, so 40 minutes show two) and short enough that the whole suite runs in a few
 * minutes of wall time.
 */
export const SUITE: SuiteEntry[] = [
  entry('steady-2x8', 1800, { steady: true, quick: true, quickDurationS: 600 }),
  entry('steady-4x16', 1800, { steady: true }),
  entry('steady-8x16', 1800, { steady: true, quick: true, quickDurationS: 600 }),
  entry('diurnal-4x16', 2400),
  entry('diurnal-8x16', 2400),
  entry('burst-8x16', 1800),
  entry('hotplug-2x8', 1800, { quick: true, quickDurationS: 900 }),
  entry('hotplug-4x16', 1800),
  // Demand above the CPUs in bursts: numaplace (as its operator would configure cpuOvercommit) and the optimum may load a node to 1.25x its CPUs.
  entry('overcommit-4x16', 1800, { cpuOvercommit: 1.25, capacityAllows: false }),
  entry('memtight-2x8', 1800),
  entry('memtight-8x16', 1800),
];
