/**
 * Issue 12 (plus): on a one-node host a VM without <numatune> (libvirt reports mode strict, no
 * nodeset) and with more resident memory than configured (QEMU's own pages count in numa_maps) got
 * a refused memory move logged at every start. A nodeset holding every node with memory restricts
 * nothing: no move is planned, nothing refused or logged.
 */
import { expect } from 'chai';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings } from '../../src/daemon/settings.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, placeAll, vmSample } from '../helpers/fake-host.js';
import { issue12Case, registerReport } from '../reliability/counters.js';

registerReport();

describe('no memory move on a one-node host (issue 12)', () => {
  it('a VM without <numatune> on one node: no setNodeset, no refusal, no log line, in apply and advisory mode', async () => {
    const two = syntheticTopology('2x8');
    const topo = { ...two, nodes: [{ ...two.nodes[0], distances: { 0: 10 } }], cpus: two.cpus.filter((c) => c.node === 0) };
    expect(topo.nodes).to.have.length(1);
    for (const mode of ['apply', 'advisory'] as const) {
      const vm = vmSample({ name: 'plain', vcpusCurrent: 1, vcpuPins: ['0-7'], emulatorPin: '0-7', numatune: { mode: 'strict', nodeset: null }, memoryMiB: 64, memoryByNode: { '0': 150 } });
      const backend = new FakeBackend(topo, [vm]);
      const logger = memoryLogger();
      const d = new Daemon({ backend, settings: withSettings({ mode, persistConfig: true }), solve: async (p) => placeAll(p, () => 0), logger, stateDir: null });
      const reports = [];
      for (let c = 0; c < 3; c++) reports.push(await d.runCycle());
      expect(reports.flatMap((r) => r.steps).filter((s) => s.kind === 'setNodeset')).to.deep.equal([]);
      expect(reports.flatMap((r) => r.refused)).to.deep.equal([]);
      expect(logger.lines.filter((l) => /memory move|refused/.test(l))).to.deep.equal([]);
    }
    issue12Case('plus: one-node host, VM without <numatune>', 'no memory move planned, refused or logged (was one refusal per VM at each start)');
  });

  it('on two nodes the refusal stays (a move that matters)', async () => {
    const topo = syntheticTopology('2x8');
    const vm = vmSample({ name: 'plain', vcpusCurrent: 1, vcpuPins: ['0-7'], emulatorPin: '0-7', numatune: { mode: 'strict', nodeset: null }, memoryMiB: 64, memoryByNode: { '0': 64 } });
    const backend = new FakeBackend(topo, [vm]);
    const d = new Daemon({ backend, settings: withSettings({ mode: 'apply' }), solve: async (p) => placeAll(p, () => 1), logger: memoryLogger(), stateDir: null });
    await d.runCycle();
    const r = await d.runCycle();
    expect(r.refused.map((x) => x.reason).join()).to.match(/memory move to node\(s\) 1 refused/);
  });
});
