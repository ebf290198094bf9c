/**
 * The layering of numaplace (README "Architecture"), checked by `npm test` (npm run check:deps)
 * over src, solver, benchmarks and test. Dependencies point one way:
 *   cli -> daemon -> (hotplug | plan | apply | metrics) -> host -> topology -> core
 *   cli -> sim (the simulated hypervisor behind --simulate) -> host's interface, topology, core
 *   solver -> core only; everyone else reaches the solver through solver/index.ts.
 *   benchmarks and test may use all of the above; nothing above uses them; benchmarks never use test.
 * Type-only imports count too: a type pulled from an upper layer ties the layers just the same.
 */
const layer = (name) => `^src/${name}/`;
const MIDDLE = ['hotplug', 'plan', 'apply', 'metrics'];

/** `from` may import only what `allowed` matches (besides npm packages and node built-ins). */
const only = (name, from, allowed, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: '^(src|solver)/', pathNot: allowed },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes every module in it depend on every other one.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    only('core-is-the-leaf', layer('core'), layer('core'), 'src/core is pure data and rules: it imports nothing of numaplace.'),
    only('topology-parsers-on-core', layer('topology'), `${layer('topology')}|${layer('core')}`, 'Topology parsers take text and know only core types.'),
    only('host-on-core', layer('host'), `${layer('host')}|${layer('topology')}|${layer('core')}`, 'The host layer (virsh) sees only core types and the topology parsers.'),
    only(
      'sim-beside-host',
      layer('sim'),
      `${layer('sim')}|^src/host/(backend|errors)\\.ts$|${layer('topology')}|${layer('core')}`,
      'The simulated hypervisor implements the host interface (HostBackend and its errors) over core types and the topology parsers; only the CLI opens it, and no other layer may (their own rules list what they may import).',
    ),
    ...MIDDLE.map((m) =>
      only(
        `${m}-below-daemon`,
        layer(m),
        `${layer(m)}|${layer('host')}|${layer('topology')}|${layer('core')}|^solver/index\\.ts$`,
        `src/${m} may use host, topology, core and the solver's entry; not the daemon, the CLI, or its peers (${MIDDLE.filter((x) => x !== m).join(', ')}).`,
      ),
    ),
    only('daemon-below-cli', layer('daemon'), `^src/(daemon|${MIDDLE.join('|')}|host|topology|core)/|^solver/index\\.ts$`, 'The daemon runs the middle layers; it never reaches up to the CLI.'),
    only('solver-on-core', '^solver/', `^solver/|${layer('core')}`, 'The solver is pure: problem in, placement out; it knows only core types.'),
    {
      name: 'solver-through-its-entry',
      comment: 'Outside solver/, import the solver only through solver/index.ts (solve, stayPlacement, validateProblem, types).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^solver/', pathNot: '^solver/index\\.ts$' },
    },
    {
      name: 'product-never-imports-tests-or-benchmarks',
      comment: 'What ships (src, solver) depends on nothing in test/, benchmarks/ or the lab driver.',
      severity: 'error',
      from: { path: '^(src|solver)/' },
      to: { path: '^(test|benchmarks|lab)/' },
    },
    {
      name: 'benchmarks-never-import-test',
      comment:
        'Benchmarks run without the test tree. PENDING: test/lab/ (the NUMA lab driver benchmarks/lab uses) is allowed until the lab branch moves it to lab/ as a pure rename; then drop the pathNot.',
      severity: 'error',
      from: { path: '^benchmarks/' },
      to: { path: '^test/', pathNot: '^test/lab/' },
    },
    {
      name: 'lab-driver-stands-alone',
      comment: 'The NUMA lab driver (lab/, once moved there) is used by benchmarks and tests and uses neither.',
      severity: 'error',
      from: { path: '^lab/' },
      to: { path: '^(test|benchmarks)/' },
    },
    {
      name: 'test-helpers-below-suites',
      comment: 'Shared test helpers (test/helpers) use the product, benchmarks and each other, never a suite.',
      severity: 'error',
      from: { path: '^test/helpers/' },
      to: { path: '^test/', pathNot: '^test/helpers/' },
    },
    {
      name: 'no-test-file-imports-a-test-file',
      comment: 'A *.test.ts runs on its own; what two suites share goes in a helper module.',
      severity: 'error',
      from: {},
      to: { path: '\\.test\\.ts$' },
    },
    {
      name: 'only-host-runs-processes',
      comment: 'Only src/host starts processes (virsh); everything else is policy or plumbing.',
      severity: 'error',
      from: { path: '^(src|solver)/', pathNot: layer('host') },
      to: { path: '^(child_process|execa)$|node_modules/execa/' },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import the checker cannot resolve would escape every rule above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
    exclude: { path: '^dist/' },
  },
};
