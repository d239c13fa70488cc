import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { loadConfig, policyConfig } from '@openecm/config';
import { OffersService } from './offers.service';

/** Prunes stale credential ids at start and then hourly; safe on every instance (a plain conditional delete). */
@Injectable()
export class OffersPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OffersPruner.name);
  private timer?: NodeJS.Timeout;
  private readonly maxAgeDays = loadConfig(policyConfig).OFFER_MAX_AGE_DAYS;

  constructor(private readonly offers: OffersService) {}

  onApplicationBootstrap(): void {
    void this.prune();
    this.timer = setInterval(() => void this.prune(), 3600_000);
    this.timer.unref();
  }

  async prune(): Promise<number> {
    try {
      return await this.offers.prune(this.maxAgeDays);
    } catch (error) {
      this.logger.warn({ err: (error as Error).name }, 'pruning credential ids failed; next round will retry');
      return 0;
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
