import { OpenEcmError } from '@openecm/contracts';
import type { NextFunction, Request, Response } from 'express';
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface GatewayTlsSettings {
  GATEWAY_TLS_CERT?: string | undefined;
  GATEWAY_TLS_KEY?: string | undefined;
  GATEWAY_TLS_CLIENT_CA?: string | undefined;
}

/** Paths every caller may reach without a client certificate: the probes and the scraper. */
const OPEN_PATHS = /^\/(health\/(live|ready)|metrics)$/;

function readPem(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

/**
 * The gateway's own HTTPS, when a certificate and key are configured; undefined for plain HTTP (behind a
 * terminating proxy). With a client CA, the TLS layer asks every client for a certificate and verifies it
 * against that CA; whether a request may go on without one is decided per path (requireClientCertificate),
 * so that probes without certificates still reach /health.
 */
export function gatewayHttpsOptions(settings: GatewayTlsSettings): ServerOptions | undefined {
  const { GATEWAY_TLS_CERT: cert, GATEWAY_TLS_KEY: key, GATEWAY_TLS_CLIENT_CA: clientCa } = settings;
  if (!cert && !key && !clientCa) return undefined;
  if (!cert || !key) throw new Error('GATEWAY_TLS_CERT and GATEWAY_TLS_KEY: both are needed to serve HTTPS');
  return {
    cert: readPem('GATEWAY_TLS_CERT', cert),
    key: readPem('GATEWAY_TLS_KEY', key),
    minVersion: 'TLSv1.2',
    ...(clientCa ? { ca: readPem('GATEWAY_TLS_CLIENT_CA', clientCa), requestCert: true, rejectUnauthorized: false } : {}),
  };
}

/** With mutual TLS on: an API call without a certificate the client CA verified is refused (401, problem+json). */
export function requireClientCertificate(req: Request, _res: Response, next: NextFunction): void {
  if (OPEN_PATHS.test(req.path) || (req.socket as TLSSocket).authorized === true) return next();
  next(new OpenEcmError('UNAUTHENTICATED', 'a client certificate signed by the configured client CA is required'));
}
