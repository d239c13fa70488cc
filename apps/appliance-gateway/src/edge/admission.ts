import { OpenEcmError } from '@openecm/contracts';
import { metricsRegistry } from '@openecm/telemetry';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge } from 'prom-client';

/** The appliance's calls that a burst of logins multiplies: what the limit counts, by method and path. */
const APPLIANCE_CALLS: Record<string, string> = { '/api/v1/credentials': 'GET', '/api/v1/injections': 'POST' };

/** Seconds a refused caller is told to wait: the time a burst of admitted calls takes to drain. */
const RETRY_AFTER_SECONDS = 1;

const inFlightGauge = new Gauge({
  name: 'openecm_gateway_appliance_calls_in_flight',
  help: 'Credential lists and injections this gateway instance is working on',
  registers: [metricsRegistry],
});

const refused = new Counter({
  name: 'openecm_gateway_appliance_calls_refused_total',
  help: 'Credential lists and injections answered 503 GATEWAY_BUSY because GATEWAY_MAX_IN_FLIGHT were in flight',
  labelNames: ['path'],
  registers: [metricsRegistry],
});

/**
 * Admission of the appliance's calls: at most `max` in flight in this instance. One more is refused at once,
 * before its token or body is looked at, with 503 GATEWAY_BUSY and `Retry-After`: under a burst beyond what the
 * broker can take, an admitted call waits behind at most `max` others and the rest are told at once, instead of every
 * call waiting in the queues behind the gateway until the appliance gives up. A call stops counting when its
 * answer is sent or its connection closes, whichever comes first. Everything else (the console, admin calls,
 * health and metrics) is never refused here, so an operator can still act during the burst.
 */
export function applianceAdmission(max: number): (req: Request, res: Response, next: NextFunction) => void {
  let inFlight = 0;
  return (req, res, next) => {
    if (APPLIANCE_CALLS[req.path] !== req.method) return next();
    if (inFlight >= max) {
      refused.inc({ path: req.path });
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      return next(new OpenEcmError('GATEWAY_BUSY', `the gateway is working on ${max} appliance calls, as many as it takes at once; try again shortly`));
    }
    inFlight += 1;
    inFlightGauge.inc();
    res.once('close', () => {
      inFlight -= 1;
      inFlightGauge.dec();
    });
    next();
  };
}
