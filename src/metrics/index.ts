/** Prometheus metrics of numaplace: definitions and update helpers, and the HTTP endpoint. */
export * from './metrics.js';
export * from './server.js';
