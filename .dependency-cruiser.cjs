/**
 * The layering of numaplace (README "Architecture"), checked by `npm test` (npm run check:deps).
 * Dependencies point one way:
 *   cli -> daemon -> (hotplug | plan | apply | metrics) -> host -> topology -> core
 *   solver -> core only; everyone else reaches the solver through solver/index.ts.
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
    only('host-on-core', layer('host'), `${layer('host')}|${layer('topology')}|${layer('core')}`, 'The host layer (virsh, simulated host) sees only core types and the topology parsers.'),
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
