/** Every policy of the closed-loop suite, in table order (baselines first, numaplace last). */
import { autoNumaPolicy, noPinningPolicy } from './no-pinning.js';
import { numadPolicy } from './numad.js';
import { numaplacePolicy } from './numaplace.js';
import { staticPinningPolicy } from './static-pinning.js';
import type { Policy } from './types.js';

export const POLICIES: Policy[] = [noPinningPolicy, autoNumaPolicy, staticPinningPolicy, numadPolicy, numaplacePolicy];
