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
