import { Module } from '@nestjs/common';
import { MessagingModule } from '@openecm/messaging';
import { OpsModule, RedisModule } from '@openecm/service-kit';
import { TokenCacheNatsController } from './cache/token-cache.nats-controller';
import { TokenCacheService } from './cache/token-cache.service';

@Module({
  imports: [MessagingModule.forService('token-cache'), OpsModule, RedisModule],
  controllers: [TokenCacheNatsController],
  providers: [TokenCacheService],
})
export class AppModule {}
