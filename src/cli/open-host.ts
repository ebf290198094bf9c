/** Host options -> a HostBackend: --simulate SCENARIO, --connect URI, or the config's connect URI. */
import type { HostBackend } from '../host/backend.js';
import { UsageError } from './args.js';

export interface HostChoice {
  connect?: string;
  simulate?: string;
}

export async function openHost(values: HostChoice, cfg: { connect: string; virsh: { timeoutMs: number } }): Promise<HostBackend> {
  if (values.connect !== undefined && values.simulate !== undefined) throw new UsageError('give --connect URI or --simulate SCENARIO, not both');
  if (values.simulate !== undefined) {
    const { createSimulatedBackend, ScenarioError } = await import('../sim/index.js');
    try {
      return createSimulatedBackend(values.simulate);
    } catch (e) {
      if (e instanceof ScenarioError) throw new UsageError(`--simulate: ${e.message}`);
      throw e;
    }
  }
  const { VirshBackend } = await import('../host/virsh-backend.js');
  return new VirshBackend({ uri: cfg.connect, timeoutMs: cfg.virsh.timeoutMs });
}
