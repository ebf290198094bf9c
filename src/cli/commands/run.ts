/** `numaplace run`: the daemon. */
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { configFromFlags, DEFAULT_CONFIG, type Config } from '../../daemon/config.js';
import { LockError } from '../../daemon/lock.js';
import { takeHostLock } from '../host-lock.js';
import { checkStateDir } from '../state-dir.js';
import { createLogger, stderrIsJournal } from '../../daemon/log.js';
import { Daemon } from '../../daemon/loop.js';
import { metricsObserver } from '../../daemon/metrics-observer.js';
import { hardeningObserver } from '../../daemon/hardening-observer.js';
import { observers } from '../../daemon/cycle.js';
import { createHardeningMetrics } from '../../metrics/hardening.js';
import { createMetrics, healthStaleAfterSeconds, startMetricsServer, type MetricsServer } from '../../metrics/index.js';
import { solve, warmUp } from '../../../solver/index.js';
import { EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, HOST_OPTIONS, HOST_OPTIONS_HELP, parseCommandArgs } from '../args.js';
import type { Command } from '../args.js';
import { openHost } from '../open-host.js';
import { systemdNotifier } from '../../host/systemd-notify.js';
import { watchdogPingDue } from '../../daemon/watchdog.js';

const OPTIONS = { ...HOST_OPTIONS, mode: { type: 'string' }, 'state-dir': { type: 'string' } } as const;

const HELP = `usage: numaplace run [--config FILE] [host options] [--mode advisory|apply] [--state-dir DIR]

Run the placement daemon: every scheduled cycle (config "schedule") it samples the host, solves the
placement, plans the changes under the churn rules and applies them (--mode apply) or logs them as
advice (advisory, the default). Metrics on http://ADDRESS:PORT/metrics (config "metrics").
SIGHUP reloads the configuration file; SIGTERM/SIGINT finish the current VM's steps and exit.

${HOST_OPTIONS_HELP}
  --mode MODE             advisory (log the plan only) or apply (overrides the config)
  --state-dir DIR         checkpoint, journal and lock (default: config stateDir; when not root and the
                          default is kept: $XDG_STATE_HOME/numaplace; with --simulate: a new temp dir)
`;

/** Where state goes when no --state-dir is given. */
export function defaultStateDir(config: Config, simulated: boolean, env = process.env, uid = process.getuid?.() ?? 0): string {
  if (simulated) return mkdtempSync(join(tmpdir(), 'numaplace-simulated-'));
  if (config.stateDir !== DEFAULT_CONFIG.stateDir || uid === 0) return config.stateDir;
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'numaplace');
}

export const command: Command = {
  async run(argv) {
    const { values } = parseCommandArgs(argv, OPTIONS);
    if (values.help) {
      process.stdout.write(HELP);
      return EXIT_OK;
    }
    const config = configFromFlags(values);
    const logger = createLogger({ format: config.log.format, level: config.log.level, syslogPrefix: stderrIsJournal() });
    const stateDir = values['state-dir'] ?? defaultStateDir(config, values.simulate !== undefined);
    // A temp state dir made for --simulate goes away with the daemon.
    const tempStateDir = values['state-dir'] === undefined && values.simulate !== undefined ? stateDir : null;
    const removeTemp = () => tempStateDir && rmSync(tempStateDir, { recursive: true, force: true });
    checkStateDir(stateDir, values['state-dir'] !== undefined ? '--state-dir' : 'stateDir');
    const hostLock = takeHostLock(values, config, `run, state directory ${stateDir}`);
    const backend = await openHost(values, config);
    // The solver worker warms up while the daemon recovers and samples (a cold first solve is deadline-bound).
    void warmUp();
    let server: MetricsServer | null = null;
    const registry = new Registry();
    const metrics = createMetrics(registry, { processMetrics: true });
    const daemon = new Daemon({
      backend,
      settings: config,
      solve,
      logger,
      stateDir,
      observer: observers(metricsObserver(metrics), hardeningObserver(createHardeningMetrics(registry))),
      reloadSettings: () => configFromFlags(values),
    });
    try {
      await daemon.start();
    } catch (e) {
      await backend.close();
      hostLock?.release();
      removeTemp();
      if (e instanceof LockError) {
        process.stderr.write(`numaplace run: ${e.message}\n`);
        return EXIT_BAD_INPUT;
      }
      throw e;
    }
    if (config.metrics.enabled) {
      try {
        server = await startMetricsServer({
          registry,
          address: config.metrics.address,
          port: config.metrics.port,
          lastSuccessAtMs: () => metrics.lastSuccessAtMs,
          // Healthy while cycles complete: stale after three missed cycles and a minute (libvirt down counts).
          staleAfterSeconds: healthStaleAfterSeconds(config.schedule),
          problem: () => daemon.healthProblem(),
        });
        const a = server.address();
        logger.info(`metrics on http://${a.address}:${a.port}/metrics`);
      } catch (e) {
        // Running blind would look healthy to nobody: stop, say why in one line, let systemd retry.
        await daemon.stop('metrics endpoint failed');
        process.stderr.write(`numaplace run: ${(e as Error).message}\n`);
        return EXIT_FAILURE;
      }
    }
    // Type=notify: ready once locked, recovered and serving metrics; the watchdog is fed only while
    // no cycle has hung, so systemd restarts a daemon stuck in one.
    const notifier = systemdNotifier();
    await notifier?.notify('READY=1');
    const watchdogMs = notifier?.watchdogMs ?? null;
    const feeder = watchdogMs === null ? null : setInterval(() => {
      if (watchdogPingDue(daemon.cycleRunningForMs(), watchdogMs)) void notifier!.notify('WATCHDOG=1');
      else logger.error('a cycle has run for over half the systemd watchdog interval; no longer feeding the watchdog', { runningForMs: daemon.cycleRunningForMs(), watchdogMs });
    }, watchdogMs / 4);
    // Run the first cycle now rather than waiting for the first tick.
    daemon.tick();
    await daemon.done();
    if (feeder) clearInterval(feeder);
    await server?.close();
    hostLock?.release();
    removeTemp();
    return EXIT_OK;
  },
};
