/**
 * Stateless seeded randomness: a value is a hash of (seed, labels...), so a trace gives the same
 * figure for the same VM, vCPU and time window however often or in whatever order it is asked.
 */

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/** Uniform in [0, 1) determined by the seed and the integer labels. */
export function unitHash(seed: number, ...labels: number[]): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (const l of labels) h = mix32(h ^ Math.imul((l | 0) + 0x632be5ab, 0x85ebca6b));
  return h / 0x1_0000_0000;
}

/** A UUID-shaped id derived from the seed and a name (stable across runs). */
export function derivedUuid(seed: number, name: string): string {
  const n = hashString(name);
  const hex = Array.from({ length: 4 }, (_, i) => Math.floor(unitHash(seed, n, i) * 0x1_0000_0000).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
