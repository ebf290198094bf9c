/** The stable codes of a refused hot-plug (metric labels, log codes): shared by hot-plug and metrics. */

export type VcpuRefusalCode =
  | 'machine-too-old'
  | 'machine-unsupported'
  | 'job-running'
  | 'at-maximum'
  | 'partial-socket'
  | 'numa-socket-split'
  | 'numa-vcpu-unassigned'
  | 'host-full';

export type MemoryRefusalCode =
  | 'machine-too-old'
  | 'machine-unsupported'
  | 'job-running'
  | 'no-guest-numa'
  | 'no-memory-hotplug'
  | 'no-free-slots'
  | 'max-memory'
  | 'block-size'
  | 'hugepage-size'
  | 'no-such-guest-node'
  | 'ratio-1-32'
  | 'windows-first-dimm-node0'
  | 'vhost-user'
  | 'host-memory';

export type RefusalCode = VcpuRefusalCode | MemoryRefusalCode;

export type HotplugKind = 'vcpu' | 'memory';
