import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { CredentialsService } from './credentials.service';

@Controller()
export class CredentialsNatsController {
  constructor(private readonly credentials: CredentialsService) {}

  @Handles('vault.credentials.list.v1')
  list(req: ParsedRequestOf<'vault.credentials.list.v1'>): Promise<ReplyOf<'vault.credentials.list.v1'>> {
    return this.credentials.list(req);
  }

  @Handles('vault.connection.test.v1')
  test(req: ParsedRequestOf<'vault.connection.test.v1'>): Promise<ReplyOf<'vault.connection.test.v1'>> {
    return this.credentials.test(req);
  }

  @Handles('vault.credentials.checkout.v1')
  checkout(req: ParsedRequestOf<'vault.credentials.checkout.v1'>): Promise<ReplyOf<'vault.credentials.checkout.v1'>> {
    return this.credentials.checkout(req);
  }

  @Handles('vault.credentials.checkin.v1')
  checkin(req: ParsedRequestOf<'vault.credentials.checkin.v1'>): Promise<ReplyOf<'vault.credentials.checkin.v1'>> {
    return this.credentials.checkin(req);
  }
}
