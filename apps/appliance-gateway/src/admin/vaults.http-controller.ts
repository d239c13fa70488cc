import { Body, Controller, Get, Param, Put, Res } from '@nestjs/common';
import { VaultConnectionInput, VaultName, parseOrThrow, type VaultConnectionView } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import type { Response } from 'express';
import { z } from 'zod';
import { Authorize } from '../oauth/api-auth.guard';

const VaultPath = z.strictObject({ name: VaultName });

@Controller('api/v1/admin/vaults')
@Authorize('admin')
export class VaultsHttpController {
  constructor(private readonly bus: Bus) {}

  /**
   * Creates or replaces a connection; answers it with every secret masked. The defaults (requesters group
   * and its access policy) are ensured on every call, not only on creation, so a call that failed between
   * the two steps is completed by simply repeating it.
   */
  @Put(':name')
  async upsert(
    @Param('name') name: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<VaultConnectionView> {
    const path = parseOrThrow(VaultPath, { name }, 'path');
    const connection = parseOrThrow(VaultConnectionInput, body, 'request body');
    const result = await this.bus.request('vault.connection.upsert.v1', { name: path.name, connection });
    await this.bus.request('policy.defaults.ensure.v1', {});
    res.status(result.created ? 201 : 200);
    return result.connection;
  }

  @Get()
  async list(): Promise<{ vaults: VaultConnectionView[] }> {
    const { connections } = await this.bus.request('vault.connection.list.v1', {});
    return { vaults: connections };
  }
}
