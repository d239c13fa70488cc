import { Body, Controller, Get, Header, Post, Query } from '@nestjs/common';
import { OfferedCredential, PendingVault, SUBJECTS, parseOrThrow, type ReplyOf } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import type { z } from 'zod';
import { Authorize } from '../oauth/api-auth.guard';

/** The query of a list is exactly what the access check takes: user, endpoint and an optional protocol. */
const CredentialsQuery = SUBJECTS['policy.access.check.v1'].request;
/** An injection request is exactly what opening a lease takes. */
const InjectionBody = SUBJECTS['policy.lease.open.v1'].request;

export interface CredentialsAnswer {
  credentials: OfferedCredential[];
  pending: z.infer<typeof PendingVault>[];
}

@Controller('api/v1')
@Authorize('credentials')
export class CredentialsHttpController {
  constructor(private readonly bus: Bus) {}

  /**
   * Names only, never a secret. The policy decides first, so a user who may not request anything causes no
   * vault traffic; the offers step swaps vault locators for ids bound to this user and endpoint.
   */
  @Get('credentials')
  async list(@Query() query: unknown): Promise<CredentialsAnswer> {
    const request = parseOrThrow(CredentialsQuery, query, 'query');
    await this.bus.request('policy.access.check.v1', request);
    const listed = await this.bus.request('vault.credentials.list.v1', request);
    const offered = await this.bus.request('policy.offers.record.v1', {
      user: request.user,
      endpoint: request.endpoint,
      credentials: listed.credentials,
    });
    return { credentials: offered.credentials, pending: listed.pending };
  }

  /** The one answer that carries a secret: never stored by a cache on the way. */
  @Post('injections')
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async inject(@Body() body: unknown): Promise<ReplyOf<'policy.lease.open.v1'>> {
    const request = parseOrThrow(InjectionBody, body, 'request body');
    return this.bus.request('policy.lease.open.v1', request);
  }
}
