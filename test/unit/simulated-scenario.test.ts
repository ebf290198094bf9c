import { expect } from 'chai';
import { BUILTIN_SCENARIO_NAMES, createSimulatedBackend, loadScenario, parseScenario, ScenarioError } from '../../src/sim/index.js';

/** A minimal valid scenario document to break one field at a time. */
function doc(vm: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  return { seed: 1, topology: '2x8', vms: [{ name: 'a', vcpus: 2, memoryMiB: 1024, ...vm }], ...top };
}

function errorOf(raw: unknown): ScenarioError {
  try {
    createSimulatedBackend(raw as Record<string, unknown>);
  } catch (e) {
    expect(e).to.be.instanceOf(ScenarioError);
    return e as ScenarioError;
  }
  throw new Error('expected a ScenarioError');
}

describe('simulated scenarios: validation', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['missing seed', { topology: '2x8', vms: [] }, 'seed', /is required/],
    ['unknown top-level key', doc({}, { tick: 5 }), 'tick', /unknown field/],
    ['unknown topology', doc({}, { topology: '3x3' }), 'topology', /unknown synthetic topology "3x3"/],
    ['bad tick', doc({}, { tickSeconds: 0 }), 'tickSeconds', /expected a number in 0.001/],
    ['vcpus current above max', doc({ vcpus: { current: 5, max: 4 } }), 'vms[0].vcpus.current', /in 1..4/],
    ['bad trace kind', doc({ load: { kind: 'spiky' } }), 'vms[0].load.kind', /one of steady, bursty/],
    ['trace level above 1', doc({ load: { kind: 'steady', level: 1.5 } }), 'vms[0].load.level', /0..1, got 1.5/],
    ['per-vCPU trace', doc({ load: [{ kind: 'steady', level: 0.1 }, { kind: 'ramping', from: 0, to: 1, startSeconds: 10, endSeconds: 5 }] }), 'vms[0].load[1].endSeconds', /after startSeconds/],
    ['bad pin text', doc({ placement: { vcpuPins: ['0-3', 'x'] } }), 'vms[0].placement.vcpuPins[1]', /"x" is not a CPU\/node list/],
    ['pin to a CPU the host lacks', doc({ placement: { vcpuPins: '0-20' } }), 'vms[0].placement.vcpuPins[0]', /CPU 16 is not an online CPU/],
    ['bad numa mode', doc({ placement: { nodeset: '0', mode: 'loose' } }), 'vms[0].placement.mode', /strict, restrictive/],
    ['nodeset naming a missing node', doc({ placement: { nodeset: '0-2' } }), 'vms[0].placement.nodeset', /host node 2 does not exist/],
    ['memoryByNode sum', doc({ placement: { memoryByNode: { 0: 512 } } }), 'vms[0].placement.memoryByNode', /sums to 512 MiB but the VM has memoryMiB 1024/],
    ['hot-plug without guest NUMA', doc({ maxMemoryMiB: 4096, memorySlots: 4 }), 'vms[0].guestCells', /At least one numa node/],
    ['maxMemory without slots', doc({ maxMemoryMiB: 4096 }), 'vms[0].memorySlots', /needs both/],
    ['shares out of range', doc({ cpuShares: 1 }), 'vms[0].cpuShares', /2..262144/],
    ['duplicate names', { seed: 1, topology: '2x8', vms: [{ name: 'a', vcpus: 1, memoryMiB: 1 }, { name: 'a', vcpus: 1, memoryMiB: 1 }] }, 'vms[1].name', /unique/],
    ['departure before arrival', doc({ arriveAtSeconds: 50, departAtSeconds: 10 }), 'vms[0].departAtSeconds', /after arriveAtSeconds/],
    ['job window', doc({ jobs: [{ kind: 'migration', fromSeconds: 5, toSeconds: 5 }] }), 'vms[0].jobs[0].toSeconds', /after fromSeconds/],
    ['memory that does not fit', doc({ memoryMiB: 70000 }), 'vms', /need \d+ MiB more than node 0/],
    ['inline topology', doc({}, { topology: { nodes: [{ id: 0, cpus: [0, 1], memoryMiB: 4096, distances: { 0: 10, 1: 20 } }] } }), 'topology', /1 nodes|2 distances/],
  ];
  for (const [what, raw, field, problem] of cases) {
    it(`names the field: ${what}`, () => {
      const e = errorOf(raw);
      expect(e.field).to.equal(field);
      expect(e.message).to.match(problem);
      expect(e.message).to.contain(`: ${field}: `);
    });
  }

  it('accepts an inline topology in the topology JSON contract form', () => {
    const b = createSimulatedBackend(doc({}, { topology: { nodes: [
      { id: 0, cpus: [0, 1], memoryMiB: 4096, freeMemoryMiB: 4000, distances: { 0: 10, 1: 21 } },
      { id: 1, cpus: [2, 3], memoryMiB: 4096, distances: { 0: 21, 1: 10 } },
    ] } }));
    expect(b.host.baseTopology.nodes.map((n) => n.cpus)).to.deep.equal([[0, 1], [2, 3]]);
  });
});

describe('simulated scenarios: built-ins and files', () => {
  it('every built-in validates and runs', async () => {
    expect(BUILTIN_SCENARIO_NAMES).to.include.members(['steady-4x16', 'steady-8x16', 'ramp-saturate-2x8', 'memory-tight-4x16', 'overcommit-2x8']);
    for (const name of BUILTIN_SCENARIO_NAMES) {
      const b = createSimulatedBackend(name);
      const s = await b.sample();
      expect(s.vms.length, name).to.be.greaterThan(0);
    }
  });

  it('steady-4x16 starts badly placed: ~20 VMs, pinned vCPUs away from their memory', () => {
    const s = loadScenario('steady-4x16');
    expect(s.vms.length).to.be.within(18, 22);
    const b = createSimulatedBackend('steady-4x16');
    b.advance(10);
    expect(b.hostMetrics().quality.ratio).to.be.greaterThan(1.5);
  });

  it('resolves gen-TOPOLOGY-N and bare topology names', () => {
    expect(loadScenario('gen-8x16-50').vms).to.have.length(50);
    expect(loadScenario('2x8').vms).to.have.length(0);
  });

  it('loads the example file and rejects an unknown name listing the built-ins', () => {
    const s = loadScenario('scenarios/example-2x8.json');
    expect(s.vms.map((v) => v.name)).to.deep.equal(['web 1', 'db', 'batch']);
    expect(() => loadScenario('no-such-scenario')).to.throw(ScenarioError, /neither a built-in scenario \(steady-4x16/);
  });

  it('reports a file that is not JSON', () => {
    expect(() => loadScenario('README.md')).to.throw(ScenarioError, /README.md: \(file\): cannot read it as JSON/);
  });

  it('parseScenario fills the documented defaults', () => {
    const s = parseScenario(doc(), 'x');
    expect(s.tickSeconds).to.equal(10);
    expect(s.memoryMigrationMiBPerSecond).to.equal(256);
    expect(s.vms[0].vcpus).to.deep.equal({ current: 2, max: 2 });
    expect(s.vms[0].cpuShares).to.equal(1024);
    expect(s.vms[0].machine).to.equal('pc-i440fx-7.2');
  });
});

describe('simulated scenarios: parsed form', () => {
  it('a parsed scenario validates again to the same thing (createSimulatedBackend accepts it)', () => {
    for (const name of [...BUILTIN_SCENARIO_NAMES, 'scenarios/example-2x8.json']) {
      const once = loadScenario(name);
      const twice = parseScenario(JSON.parse(JSON.stringify(once)), name);
      expect(JSON.parse(JSON.stringify(twice)), name).to.deep.equal(JSON.parse(JSON.stringify(once)));
      expect(() => createSimulatedBackend(once as unknown as Record<string, unknown>)).to.not.throw();
    }
  });
});
