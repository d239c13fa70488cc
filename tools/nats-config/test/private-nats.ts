import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@openecm/testing';

/** A nats-server of a test's own: a free port, a folder of its own, JetStream on, the given accounts file. */
export interface PrivateNats {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export interface PrivateNatsOptions {
  /** The accounts file (as `npm run nats-config` writes it) or an operator setup, included by the server configuration. */
  accounts: string;
  /** nats-server's environment: the credentials the accounts file names. */
  env: Record<string, string>;
  /** Server certificate, key and the CA client certificates must come from (TLS required, client certificates too). */
  tls?: { cert: string; key: string; ca: string };
}

const READY = /Server is ready/;

/** Starts nats-server and resolves once it says it is ready; a server that exits first fails with its log. */
export async function startPrivateNats(options: PrivateNatsOptions): Promise<PrivateNats> {
  const dir = mkdtempSync(join(tmpdir(), 'openecm-nats-'));
  try {
    const port = await freePort();
    const tls = options.tls
      ? `tls {\n  cert_file: ${JSON.stringify(options.tls.cert)}\n  key_file: ${JSON.stringify(options.tls.key)}\n  ca_file: ${JSON.stringify(options.tls.ca)}\n  verify: true\n}\n`
      : '';
    writeFileSync(join(dir, 'openecm-accounts.conf'), options.accounts);
    writeFileSync(
      join(dir, 'nats-server.conf'),
      `listen: "127.0.0.1:${port}"\njetstream {\n  store_dir: ${JSON.stringify(join(dir, 'data'))}\n}\n${tls}include ./openecm-accounts.conf\n`,
    );
    const child = spawn('nats-server', ['-c', join(dir, 'nats-server.conf')], {
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (READY.test(log)) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('error', (error) => reject(new Error(`nats-server could not start (${error.message}); is it on PATH?`)));
      void exited.then(() => reject(new Error(`nats-server exited before it was ready:\n${log}`)));
    });
    return {
      url: `${options.tls ? 'tls' : 'nats'}://127.0.0.1:${port}`,
      dir,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.kill('SIGTERM');
          await exited;
          clearTimeout(killer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface TestCertificates {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA of its own that issued nothing here: a client trusting only it must refuse the server. */
  otherCa: string;
}

/** A CA made for this run, a server certificate for 127.0.0.1 and a client certificate, both issued by it (openssl). */
export function makeCertificates(dir: string): TestCertificates {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ca = (name: string) => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', path(`${name}.key`), '-out', path(`${name}.pem`));
    return path(`${name}.pem`);
  };
  const issue = (name: string, extension: string) => {
    writeFileSync(path(`${name}.ext`), extension);
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`));
    openssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', path('openecm-test-ca.pem'), '-CAkey', path('openecm-test-ca.key'), '-CAcreateserial', '-days', '1', '-extfile', path(`${name}.ext`), '-out', path(`${name}.pem`));
  };
  const result = { ca: ca('openecm-test-ca'), otherCa: ca('unrelated-ca') };
  issue('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue('client', 'extendedKeyUsage=clientAuth\n');
  return { ...result, serverCert: path('server.pem'), serverKey: path('server.key'), clientCert: path('client.pem'), clientKey: path('client.key') };
}
