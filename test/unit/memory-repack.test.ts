import { expect } from 'chai';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { buildModel, pairColumn, type Column, type Model } from '../../solver/model.js';
import { memoryRepack } from '../../solver/memory-repack.js';
import { selectionFits, totalCost } from '../../solver/greedy.js';
import type { Problem } from '../../solver/types.js';

/** 2x8 + a memory-only node; node 0 has room for 2 GiB of the VMs' 4.5 GiB. */
function problem(): Problem {
  const topology = syntheticTopology('2x8-cxl');
  topology.nodes[0].freeMemoryMiB = 2048;
  topology.nodes[1].freeMemoryMiB = 0;
  // Load per GiB: a 0.8, b 0.2, c 0.6, d 0.15, e 1.0.
  const vms = [
    { name: 'a', load: 0.8, mem: 1024 },
    { name: 'b', load: 0.4, mem: 2048 },
    { name: 'c', load: 0.3, mem: 512 },
    { name: 'd', load: 0.075, mem: 512 },
    { name: 'e', load: 0.5, mem: 512 },
  ];
  return { topology, vms: vms.map((v) => ({ name: v.name, vcpus: 1, load: [v.load], memoryMiB: v.mem })) };
}

/** Every VM's vCPU on node 0, memory on the nodes given. */
function selection(m: Model, memNodes: number[]): Column[] {
  return m.items.map((it, i) => pairColumn(m, it, i, 0, memNodes[i]));
}

/** The cheapest memory assignment with the vCPUs on node 0, by trying all of them. */
function bruteForce(m: Model): number {
  let best = Infinity;
  const n = m.items.length;
  for (let code = 0; code < 3 ** n; code++) {
    const nodes = Array.from({ length: n }, (_, i) => Math.floor(code / 3 ** i) % 3);
    const sel = selection(m, nodes);
    if (selectionFits(m, sel)) best = Math.min(best, totalCost(sel));
  }
  return best;
}

describe('memoryRepack (solver/memory-repack.ts)', () => {
  it('keeps local the VMs with the most load per MiB and sends the rest to the memory-only node: the optimum here', () => {
    const m = buildModel(problem());
    // A poor packing that fits: the busiest VM (a) on the memory-only node, the idlest (d) local.
    const start = selection(m, [2, 2, 0, 0, 0]);
    expect(selectionFits(m, start)).to.equal(true);
    const out = memoryRepack(m, start);
    expect(out, 'a cheaper packing exists').to.not.equal(undefined);
    expect(selectionFits(m, out!)).to.equal(true);
    expect(totalCost(out!)).to.be.lessThan(totalCost(start));
    expect(totalCost(out!)).to.be.closeTo(bruteForce(m), 1e-9);
    // a (0.8/GiB), e (1.0/GiB), c (0.6/GiB) fill node 0's 2 GiB; b and d give way.
    expect(out!.map((c) => c.mem.findIndex((x) => x > 0))).to.deep.equal([0, 2, 0, 2, 0]);
    // vCPUs never move.
    expect(out!.every((c) => c.vcpuNode.every((n) => n === 0))).to.equal(true);
  });

  it('returns undefined when the packing is already the cheapest, and leaves VMs that are not pair-placed alone', () => {
    const m = buildModel(problem());
    expect(memoryRepack(m, selection(m, [0, 2, 0, 2, 0]))).to.equal(undefined);
    // b split over nodes 0 and 2 (not a pair column): it keeps its column and its 1 GiB on node 0;
    // the others share the 1 GiB left, now held by the idlest (d).
    const start = selection(m, [2, 2, 2, 0, 2]);
    const split: Column = { ...start[1], mem: [1024, 0, 1024], key: 'split', use: [[0, start[1].use[0][1]], [6, 1024], [8, 1024]] };
    const out = memoryRepack(m, [start[0], split, start[2], start[3], start[4]]);
    expect(out).to.not.equal(undefined);
    expect(out![1]).to.equal(split);
    expect(selectionFits(m, out!)).to.equal(true);
    expect(out!.map((c) => c.mem[0])).to.deep.equal([0, 1024, 512, 0, 512]);
  });
});
