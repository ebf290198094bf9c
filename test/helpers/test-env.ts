/**
 * Loaded first by .mocharc.json: the tests (and the numaplace processes they start) never read a
 * host's /etc/numaplace/numaplace.json, so an installed numaplace does not change their outcome.
 */
process.env.NUMAPLACE_CONFIG ??= '';
export {};
