/** The baselines of the closed-loop suite, in table order (numaplace runs after them). */
import { autoNumaPolicy, noPinningPolicy } from './no-pinning.js';
import { numadPolicy } from './numad.js';
import { staticPinningPolicy } from './static-pinning.js';
import type { Policy } from './types.js';

export const BASELINES: Policy[] = [noPinningPolicy, autoNumaPolicy, staticPinningPolicy, numadPolicy];
