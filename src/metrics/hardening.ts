/**
 * Metrics for conditions that make numaplace's picture or its actions unsafe though cycles still
 * complete: a journal that cannot be written (nothing is applied), QEMU memory maps it cannot read
 * (memory placement input missing), VMs it cannot read (left out). Kept apart from metrics.ts so
 * they are defined and fed in one place.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface HardeningMetrics {
  readonly journalWritable: Gauge;
  readonly journalUnwritable: Counter;
  readonly numaMapsReadErrors: Counter;
  readonly vmsUnreadable: Gauge;
  /** Last cumulative figures seen (counters advance by the difference). */
  readonly seen: { journalFailures: number; numaMapsErrors: number };
}

export function createHardeningMetrics(registry: Registry): HardeningMetrics {
  const registers = [registry];
  const m: HardeningMetrics = {
    journalWritable: new Gauge({ name: 'numaplace_journal_writable', help: '1 when the journal in the state directory can be written; 0: nothing is applied until it can (disk full, read-only)', registers }),
    journalUnwritable: new Counter({ name: 'numaplace_journal_unwritable_total', help: 'Times the journal was found unwritable (probe or write failed) while there was something to apply', registers }),
    numaMapsReadErrors: new Counter({ name: 'numaplace_numa_maps_read_errors_total', help: 'Failed reads of a QEMU process\'s /proc/PID/numa_maps (memory placement input missing; e.g. no CAP_SYS_PTRACE)', registers }),
    vmsUnreadable: new Gauge({ name: 'numaplace_vms_unreadable', help: 'VMs listed by libvirt but left out of the last cycle because they could not be read', registers }),
    seen: { journalFailures: 0, numaMapsErrors: 0 },
  };
  m.journalWritable.set(1);
  m.vmsUnreadable.set(0);
  return m;
}

export interface HardeningFigures {
  journalWritable: boolean;
  /** Cumulative. */
  journalFailures: number;
  /** Cumulative; undefined when the backend does not read numa_maps. */
  numaMapsErrors?: number;
  vmsUnreadable?: number;
}

export function recordHardening(m: HardeningMetrics, f: HardeningFigures): void {
  m.journalWritable.set(f.journalWritable ? 1 : 0);
  if (f.journalFailures > m.seen.journalFailures) m.journalUnwritable.inc(f.journalFailures - m.seen.journalFailures);
  m.seen.journalFailures = f.journalFailures;
  if (f.numaMapsErrors !== undefined) {
    if (f.numaMapsErrors > m.seen.numaMapsErrors) m.numaMapsReadErrors.inc(f.numaMapsErrors - m.seen.numaMapsErrors);
    m.seen.numaMapsErrors = f.numaMapsErrors;
  }
  if (f.vmsUnreadable !== undefined) m.vmsUnreadable.set(f.vmsUnreadable);
}
