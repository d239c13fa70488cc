import { Injectable } from '@nestjs/common';
import { jumpItemsConfig, loadConfig, namespaceConfig } from '@openecm/config';
import { VaultSystem, VaultSystemsAnswer, type VaultSystemsAnswer as Answer, type VaultSystem as System } from '@openecm/contracts';
import { RedisConnection } from '@openecm/service-kit';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { endpointKey } from '../access/identity';

/** How long an endpoint a user was shown as a jump item counts as coming from it, for the user's recent items. */
const SEEN_TTL_MS = 12 * 3600_000;

const heldAnswer = z.strictObject({ at: z.number(), answer: VaultSystemsAnswer });
const seenSystem = z.strictObject({ at: z.number(), system: VaultSystem });

const hash = (text: string): string => createHash('sha256').update(text).digest('base64url');

/**
 * What jump-item searches keep in Redis, never in the database: each vault's answer per (vault, user, search) for
 * JUMP_ITEMS_CACHE_SECONDS (one hash per user and search, one field per vault, each with its own age), and the
 * endpoints a user was shown as jump items, so that an injection on one of them records a recent item.
 */
@Injectable()
export class JumpItemsCache {
  private readonly ttlMs = loadConfig(jumpItemsConfig).JUMP_ITEMS_CACHE_SECONDS * 1000;
  private readonly prefix = `${loadConfig(namespaceConfig).OPENECM_NAMESPACE ?? 'openecm'}:jump-items:v1`;

  constructor(private readonly redis: RedisConnection) {}

  /** The vaults' answers still fresh for this user and search, by vault. */
  async answers(userKey: string, search: string, now = Date.now()): Promise<Map<string, Answer>> {
    const held = new Map<string, Answer>();
    if (this.ttlMs === 0) return held;
    const fields = await this.redis.client.hgetall(this.answerKey(userKey, search));
    for (const [vault, raw] of Object.entries(fields)) {
      const parsed = heldAnswer.safeParse(parseJson(raw));
      if (parsed.success && parsed.data.answer.vault === vault && now - parsed.data.at < this.ttlMs) held.set(vault, parsed.data.answer);
    }
    return held;
  }

  async keep(userKey: string, search: string, answers: Answer[], now = Date.now()): Promise<void> {
    if (this.ttlMs === 0 || answers.length === 0) return;
    const key = this.answerKey(userKey, search);
    const fields = Object.fromEntries(answers.map((answer) => [answer.vault, JSON.stringify({ at: now, answer })]));
    await this.redis.client.multi().hset(key, fields).pexpire(key, this.ttlMs).exec();
  }

  /** Remembers the endpoints of the systems shown (name, host name, IP address), for the recent items. */
  async shown(userKey: string, systems: System[], now = Date.now()): Promise<void> {
    if (systems.length === 0) return;
    const fields: Record<string, string> = {};
    for (const system of systems) {
      const value = JSON.stringify({ at: now, system });
      for (const endpoint of [system.name, system.hostname, system.ip]) if (endpoint) fields[endpointKey(endpoint)] = value;
    }
    const key = this.seenKey(userKey);
    await this.redis.client.multi().hset(key, fields).pexpire(key, SEEN_TTL_MS).exec();
  }

  /** The system shown to this user whose endpoint this is, if it was shown lately. */
  async shownAt(userKey: string, endpoint: string, now = Date.now()): Promise<System | undefined> {
    const raw = await this.redis.client.hget(this.seenKey(userKey), endpointKey(endpoint));
    const parsed = raw === null ? undefined : seenSystem.safeParse(parseJson(raw));
    return parsed?.success && now - parsed.data.at <= SEEN_TTL_MS ? parsed.data.system : undefined;
  }

  private answerKey(userKey: string, search: string): string {
    return `${this.prefix}:answers:${hash(`${userKey}\u0000${search.toLowerCase()}`)}`;
  }

  private seenKey(userKey: string): string {
    return `${this.prefix}:shown:${hash(userKey)}`;
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
