/**
 * numaplace's per-VM policy, kept in the domain XML's <metadata> under its own namespace:
 *
 *     <metadata>
 *       <np:policy xmlns:np="https://numaplace.dev/xmlns/policy/1" exclude="true" weight="2" class="gold"/>
 *     </metadata>
 *
 * Attributes (all optional, strings as written): exclude ("true" = numaplace never touches the VM),
 * weight (cpu_shares multiplier), class (a shares class from the config, e.g. gold/silver/bronze).
 * Set it with: virsh metadata VM --uri https://numaplace.dev/xmlns/policy/1 --key np --config --live \
 *   --set '<policy exclude="true"/>'
 * Any prefix works; the namespace URI is what is matched.
 */
export const NUMAPLACE_XMLNS = 'https://numaplace.dev/xmlns/policy/1';
export const NUMAPLACE_POLICY_ELEMENT = 'policy';
/** Attributes read from the element; others are ignored (forward compatibility). */
export const NUMAPLACE_POLICY_ATTRIBUTES = ['exclude', 'weight', 'class'] as const;

/**
 * What numaplace itself wrote to a VM's persistent definition (persistConfig), recorded in its own
 * namespace when it writes a pin or nodeset with --config:
 *     <npw:written xmlns:npw="https://numaplace.dev/xmlns/written/1" tune="yes"/>
 * A persistent <cputune> pin or <numatune> nodeset without this marker was put there by someone else
 * (another management tool, an operator): numaplace leaves such a VM alone unless foreign.manage.
 */
export const NUMAPLACE_WRITTEN_XMLNS = 'https://numaplace.dev/xmlns/written/1';
export const NUMAPLACE_WRITTEN_ELEMENT = 'written';

/**
 * Metadata namespaces of tools that manage VMs themselves (their placement included). A namespace
 * matches when it starts with the prefix (Nova writes .../nova/1.0 and 1.1; oVirt vm/1.0 and vm/tune/1.0).
 */
export const FOREIGN_MANAGERS: readonly { tool: string; prefix: string }[] = [
  { tool: 'OpenStack Nova', prefix: 'http://openstack.org/xmlns/libvirt/nova/' },
  { tool: 'oVirt/RHV', prefix: 'http://ovirt.org/vm/' },
  { tool: 'KubeVirt', prefix: 'http://kubevirt.io' },
];
