/**
 * Deterministic effort accounting. The pipeline stops on counted work, never on the
 * clock, so the same problem gives the same answer however loaded the machine is:
 * every costly step charges units here (one unit ~ one candidate column priced or
 * one tableau entry of an LP), and a Deadline's now() reads the units used. The
 * wall clock only acts as a guard: once it passes, now() jumps to Infinity and every
 * stage stops (the answer then depends on timing, and says so in `reason`).
 * Module state is per thread: the solve worker and an in-process solve run one
 * pipeline at a time, synchronously.
 */

export interface Deadline {
  /** Effort used so far (below), or a clock reading; Infinity once a wall-clock guard has passed. */
  now(): number;
  at: number;
  /** Real milliseconds left before the guard (for the LP library's own time-out). */
  wallMsLeft?(): number;
  /** A real clock, for timing library calls. */
  wallNow?(): number;
}

let used = 0;
let guardTripped = false;

export function charge(units: number): void {
  used += units;
}

export function effortUsed(): number {
  return used;
}

/** Whether a wall-clock guard stopped a stage since the last effortDeadline(). */
export function guardHit(): boolean {
  return guardTripped;
}

/**
 * A deadline of `budget` effort units from now, guarded by the wall clock
 * (`guard.now() > guard.at` stops everything).
 */
export function effortDeadline(budget: number, guard?: { now(): number; at: number }): Deadline {
  const start = used;
  guardTripped = false;
  return {
    at: budget,
    now: () => {
      if (guard && guard.now() > guard.at) {
        guardTripped = true;
        return Infinity;
      }
      return used - start;
    },
    wallMsLeft: guard ? () => Math.max(1, guard.at - guard.now()) : undefined,
    wallNow: guard ? () => guard.now() : undefined,
  };
}

/** A deadline at `share` of what is left of `dl` (same guard). */
export function subDeadline(dl: Deadline, share: number): Deadline {
  const now = dl.now();
  return { ...dl, at: now + Math.max(0, (dl.at - now) * share) };
}
