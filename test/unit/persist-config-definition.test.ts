/**
 * Issue 12 item 4: with persistConfig, the persistent definition is compared with the target too:
 * a setting already live but not in the definition is written to the definition alone (--config),
 * one already in the definition is not written there again (--live alone).
 */
import { expect } from 'chai';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings } from '../../src/daemon/settings.js';
import type { PersistentDefinition } from '../../src/core/sample.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, placeAll, vmSample } from '../helpers/fake-host.js';
import { issue12Case, registerReport } from '../reliability/counters.js';

registerReport();

const topo = syntheticTopology('2x8');
const emptyDef = (): PersistentDefinition => ({ vcpuPins: {}, emulatorPin: null, shares: null, numatune: { mode: 'restrictive', nodeset: null }, memnodes: [], writtenByNumaplace: true });

function host(def: PersistentDefinition, livePin: string) {
  const vm = vmSample({
    name: 'p', vcpusCurrent: 2, vcpuPins: [livePin, livePin], emulatorPin: livePin,
    numatune: { mode: 'restrictive', nodeset: '1' }, memoryByNode: { '1': 1024 }, cpuShares: 2048, definition: def,
  });
  return new FakeBackend(topo, [vm]);
}

async function cycles(backend: FakeBackend, n: number) {
  const d = new Daemon({ backend, settings: withSettings({ mode: 'apply', persistConfig: true, churn: { holdCycles: 1 } }), solve: async (p) => placeAll(p, () => 1), logger: memoryLogger(), stateDir: null });
  for (let i = 0; i < n; i++) await d.runCycle();
  return d;
}

describe('persistConfig compares with the persistent definition (issue 12 item 4)', () => {
  it('live already as planned, definition without it: written to the definition alone (was: never written)', async () => {
    const backend = host(emptyDef(), '8-15');
    await cycles(backend, 2);
    const calls = backend.calls.map((c) => [c.kind, ...c.args, c.flags.live, c.flags.config]);
    expect(calls).to.have.deep.members([
      ['pinVcpu', 0, '8-15', false, true],
      ['pinVcpu', 1, '8-15', false, true],
      ['pinEmulator', '8-15', false, true],
      ['setNodeset', '1', false, true],
      ['setShares', 2048, false, true],
    ]);
    issue12Case('item 4: persistConfig, live as planned but definition not', `${calls.length} --config-only writes (was 0)`);
  });

  it('definition already as planned: nothing written once it is; a live change goes --live alone', async () => {
    const same: PersistentDefinition = { vcpuPins: { 0: '8-15', 1: '8-15' }, emulatorPin: '8-15', shares: 2048, numatune: { mode: 'restrictive', nodeset: '1' }, memnodes: [], writtenByNumaplace: true };
    const quiet = host(same, '8-15');
    await cycles(quiet, 3);
    expect(quiet.calls).to.deep.equal([]);
    const liveOnly = host(same, '8-11');
    await cycles(liveOnly, 2);
    const kinds = liveOnly.calls.map((c) => [c.kind, c.flags.live, c.flags.config]);
    expect(kinds).to.deep.equal([['pinVcpu', true, false], ['pinVcpu', true, false], ['pinEmulator', true, false]]);
  });
});
