import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * How often the event loop's delay is sampled for `nodejs_eventloop_lag_*`. Each sample is a timer that wakes the
 * process: prom-client's 10 ms woke every app some 195 times a second with nothing to do (under strace, against
 * 1 a second for the simulator), a thousand wakeups a second for the five services on two cores. Each sample
 * still measures the delay to the nanosecond; ten a second are plenty for a histogram scraped every few seconds.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** The one registry every app serves on /metrics. */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

export const natsHandled = new Counter({
  name: 'openecm_nats_requests_total',
  help: 'NATS requests handled by this instance, by subject and outcome (ok or the error code)',
  labelNames: ['subject', 'outcome'],
  registers: [metricsRegistry],
});

export const natsHandleDuration = new Histogram({
  name: 'openecm_nats_request_duration_seconds',
  help: 'Time to handle a NATS request, by subject',
  labelNames: ['subject'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  registers: [metricsRegistry],
});

export const releaseCheckinFailures = new Counter({
  name: 'openecm_release_checkin_failures_total',
  help: 'Check-ins (with their rotation) that failed and will be retried, by error code',
  labelNames: ['code'],
  registers: [metricsRegistry],
});

export const releaseRotationFailed = new Counter({
  name: 'openecm_release_rotation_failed_total',
  help: 'Leases given up on: the check-in (and rotation) never succeeded within ROTATION_RETRY_FOR_MS or was refused for good',
  labelNames: ['code'],
  registers: [metricsRegistry],
});

export const vaultSweepCheckedIn = new Counter({
  name: 'openecm_vault_sweep_checked_in_total',
  help: 'Check-outs the vault-side sweep found at a vault with no open lease owning them, and checked in, by vault',
  labelNames: ['vault'],
  registers: [metricsRegistry],
});

export const vaultSweepFailures = new Counter({
  name: 'openecm_vault_sweep_failures_total',
  help: 'What the vault-side sweep could not do: a check-in that failed or a vault it could not sweep (by vault), or a whole run (vault "*"), by error code',
  labelNames: ['vault', 'code'],
  registers: [metricsRegistry],
});

export const applianceSessionsTerminated = new Counter({
  name: 'openecm_appliance_sessions_terminated_total',
  help: 'Revocations taken to the appliance, by outcome: terminated, refused (the appliance answered an error, such as a session already ended), skipped (no 32-hex lsid), unconfigured (no appliance connection), failed (an attempt that will be made again: the appliance out of reach or answering 5xx)',
  labelNames: ['outcome'],
  registers: [metricsRegistry],
});
