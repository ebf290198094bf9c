/**
 * Live memory placement by page moves (issue 24) on the real four-node kernel: boots the lab and runs
 * the scenarios of scenario-move-pages.ts (each starts and destroys its own VMs).
 */
import { NumaLab } from './numa-lab.js';
import { requireLab, note } from './lab-guard.js';
import { boundedMove, cellsFollowTheirNodes, splitWithoutCells } from './scenario-move-pages.js';

describe('NUMA lab: guest memory moved page by page (four-node)', function () {
  this.timeout(30 * 60_000);
  let lab: NumaLab | undefined;

  before(async function () {
    requireLab(this);
    lab = await NumaLab.start('four-node');
    note(`four-node lab ready in ${lab.timings.readyS.toFixed(0)} s`);
  });
  after(async () => {
    await lab?.stop();
  });

  it('a 2-cell VM too big for one node: each cell\'s RAM block onto its own node (widen, move, narrow), >= 95 % by numa_maps', async () => {
    await cellsFollowTheirNodes(lab!);
  });
  it('a MiB budget moves that much and leaves the rest; a second move finishes it', async () => {
    await boundedMove(lab!);
  });
  it('a VM without cells split over two nodes as planned, within 5 %', async () => {
    await splitWithoutCells(lab!);
  });
});
