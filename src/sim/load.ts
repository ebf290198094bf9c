/** Resolving `--simulate NAME`: built-in names first, then scenario files (JSON). */
import { existsSync, readFileSync } from 'node:fs';
import { SYNTHETIC_TOPOLOGY_NAMES } from '../topology/synthetic.js';
import { BUILTIN_SCENARIO_NAMES, builtinScenario } from './builtins.js';
import type { Scenario } from './scenario.js';
import { parseScenario, ScenarioError } from './validate.js';

export function loadScenario(nameOrPath: string): Scenario {
  const builtin = builtinScenario(nameOrPath);
  if (builtin) return parseScenario(builtin, nameOrPath);
  if (!existsSync(nameOrPath)) {
    throw new ScenarioError(nameOrPath, 'name',
      `neither a built-in scenario (${BUILTIN_SCENARIO_NAMES.join(', ')}; gen-TOPOLOGY-N; or a bare topology: ${SYNTHETIC_TOPOLOGY_NAMES.join(', ')}) nor an existing file`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(nameOrPath, 'utf8'));
  } catch (e) {
    throw new ScenarioError(nameOrPath, '(file)', `cannot read it as JSON: ${(e as Error).message}`);
  }
  return parseScenario(raw, nameOrPath);
}
