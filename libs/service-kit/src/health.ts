import { Controller, Get, HttpCode, Injectable, Res } from '@nestjs/common';
import type { Response } from 'express';

export type HealthCheck = () => Promise<boolean>;

/** Dependencies register a readiness check here; /health/ready is green only when every one is. */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  /** Set once the app is shutting down: it stays alive to finish its work but takes no new traffic. */
  draining = false;

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  async run(timeoutMs = 2000): Promise<Record<string, 'up' | 'down'>> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        const ok = await Promise.race([
          check().catch(() => false),
          new Promise<boolean>((resolve) => setTimeout(resolve, timeoutMs, false).unref()),
        ]);
        return [name, ok ? 'up' : 'down'] as const;
      }),
    );
    return Object.fromEntries(entries);
  }
}

@Controller('health')
export class HealthController {
  constructor(private readonly registry: HealthRegistry) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'up' } {
    return { status: 'up' };
  }

  @Get('ready')
  async ready(
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ status: 'up' | 'down' | 'draining'; checks: Record<string, string> }> {
    const checks = await this.registry.run();
    const up = Object.values(checks).every((s) => s === 'up');
    res.status(up && !this.registry.draining ? 200 : 503);
    return { status: this.registry.draining ? 'draining' : up ? 'up' : 'down', checks };
  }
}
