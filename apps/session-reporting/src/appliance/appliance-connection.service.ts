import { Injectable } from '@nestjs/common';
import { loadConfig, sessionReportingConfig } from '@openecm/config';
import {
  APPLIANCE_CONNECTION_NAME,
  APPLIANCE_SEAL_CONTEXT,
  ApplianceConnectionInput,
  OpenEcmError,
  parseOrThrow,
  type ApplianceConnectionView,
  type SealedBox,
} from '@openecm/contracts';
import { SecretValue } from '@openecm/crypto';
import { DataSource } from 'typeorm';
import { ApplianceClient } from './appliance-client';
import { ApplianceConnectionEntity, ReportPollEntity } from './appliance-connection.entity';
import { ApplianceKeys } from './appliance-keys';

const AAD = (name: string) => `appliance-connection:${name}`;

/** A connection opened for use: where, as whom, and how often to poll. */
export interface OpenConnection {
  name: string;
  url: string;
  pollIntervalSeconds: number;
  client: ApplianceClient;
}

/**
 * The appliance connection: kept in the reporting schema with its client secret sealed, answered without it, and
 * opened into an ApplianceClient for the report poller (and, later, for ending sessions).
 */
@Injectable()
export class ApplianceConnections {
  private readonly config = loadConfig(sessionReportingConfig);
  private readonly listeners: Array<(name: string) => Promise<void>> = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: ApplianceKeys,
  ) {}

  /** Called after a connection is saved (the poller schedules itself anew). */
  onChange(listener: (name: string) => Promise<void>): void {
    this.listeners.push(listener);
  }

  async view(name = APPLIANCE_CONNECTION_NAME): Promise<ApplianceConnectionView> {
    const connection = await this.dataSource.getRepository(ApplianceConnectionEntity).findOneBy({ name });
    const poll = await this.dataSource.getRepository(ReportPollEntity).findOneBy({ connection: name });
    return {
      configured: Boolean(connection),
      url: connection?.url ?? null,
      clientId: connection?.clientId ?? null,
      clientSecretSet: Boolean(connection?.clientSecret),
      pollIntervalSeconds: connection?.pollIntervalSeconds ?? null,
      caBundle: Boolean(connection?.caBundle),
      allowInsecureHttp: connection?.allowInsecureHttp ?? false,
      updatedAt: connection ? connection.updatedAt.toISOString() : null,
      poll: {
        resumeFrom: poll && Number(poll.resumeFrom) > 0 ? new Date(Number(poll.resumeFrom) * 1000).toISOString() : null,
        lastPolledAt: poll?.lastPolledAt ? poll.lastPolledAt.toISOString() : null,
        lastError: poll?.lastError ?? null,
        sessionsStored: Number(poll?.sessionsStored ?? 0),
      },
    };
  }

  async put(sealed: SealedBox, name = APPLIANCE_CONNECTION_NAME): Promise<ApplianceConnectionView> {
    const input = parseOrThrow(ApplianceConnectionInput, await this.keys.open(sealed, APPLIANCE_SEAL_CONTEXT, 'connection'), 'connection');
    const url = new URL(input.url);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && input.allowInsecureHttp)) {
      throw new OpenEcmError('VALIDATION_FAILED', 'invalid connection: url (https only, unless allowInsecureHttp)', [
        { field: 'url', message: 'must be https (plain http only with allowInsecureHttp)' },
      ]);
    }
    if (url.username || url.password || url.search || url.hash) {
      throw new OpenEcmError('VALIDATION_FAILED', 'invalid connection: url (a site address only)', [{ field: 'url', message: 'a site address, without credentials, query or fragment' }]);
    }
    await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(ApplianceConnectionEntity).save({
        name,
        url: url.origin,
        clientId: input.clientId,
        clientSecret: this.keys.atRest.seal(input.clientSecret, AAD(name)),
        pollIntervalSeconds: input.pollIntervalSeconds,
        caBundle: input.caBundle ?? null,
        allowInsecureHttp: input.allowInsecureHttp,
        updatedAt: new Date(),
      });
      // a new connection polls from now: the appliance's history before it is not the broker's to import
      await manager.query(
        `INSERT INTO "reporting"."report_poll" ("connection", "resume_from") VALUES ($1, $2) ON CONFLICT ("connection") DO NOTHING`,
        [name, Math.floor(Date.now() / 1000)],
      );
    });
    for (const listener of this.listeners) await listener(name);
    return this.view(name);
  }

  /** The connection opened with its secret, or null when none is configured or its secret no longer opens. */
  async open(name = APPLIANCE_CONNECTION_NAME): Promise<OpenConnection | null> {
    const c = await this.dataSource.getRepository(ApplianceConnectionEntity).findOneBy({ name });
    if (!c) return null;
    const secret = this.keys.atRest.open(c.clientSecret, AAD(name));
    if (secret === undefined) {
      throw new OpenEcmError('SERVICE_UNAVAILABLE', 'the appliance connection secret does not open with APPLIANCE_SETTINGS_KEYS: restore the key or enter the connection again');
    }
    return {
      name,
      url: c.url,
      pollIntervalSeconds: c.pollIntervalSeconds,
      client: new ApplianceClient({
        url: c.url,
        clientId: c.clientId,
        clientSecret: SecretValue.of(secret),
        caBundle: c.caBundle,
        timeoutMs: this.config.APPLIANCE_HTTP_TIMEOUT_MS,
        maxResponseBytes: this.config.APPLIANCE_MAX_RESPONSE_BYTES,
      }),
    };
  }

  /** How often a connection is polled; null when there is none. Needs no key: a connection whose secret no longer opens is still scheduled, and its polls say why they fail. */
  async pollInterval(name: string): Promise<number | null> {
    return (await this.dataSource.getRepository(ApplianceConnectionEntity).findOneBy({ name }))?.pollIntervalSeconds ?? null;
  }

  async names(): Promise<string[]> {
    return (await this.dataSource.getRepository(ApplianceConnectionEntity).find({ select: { name: true } })).map((c) => c.name);
  }
}
