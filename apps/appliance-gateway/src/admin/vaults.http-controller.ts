import { Body, Controller, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import {
  SEAL_CONTEXTS,
  SavedVaultTest,
  UnsavedVaultTest,
  VaultConnectionSubmission,
  VaultPath,
  parseOrThrow,
  type VaultConnectionView,
  type VaultList,
  type VaultTestResult,
} from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import type { Response } from 'express';
import { Authorize } from '../oauth/api-auth.guard';
import { withSealedSettings } from './vault-sealing';

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
    const connection = parseOrThrow(VaultConnectionSubmission, body, 'request body');
    // sealed to vault-adapters: the secrets in the settings cross NATS readable by it alone
    const result = await withSealedSettings(this.bus, connection, SEAL_CONTEXTS.vaultConnection(path.name), 'connection', (sealed) =>
      this.bus.request('vault.connection.upsert.v1', { name: path.name, connection: sealed }),
    );
    await this.bus.request('policy.defaults.ensure.v1', {});
    res.status(result.created ? 201 : 200);
    return result.connection;
  }

  /**
   * Test Settings with the settings as entered (saved or not): the list for this user and endpoint (names
   * only), "pending" with the approve URL, or the failing step with the vault's own message. An empty list
   * is a valid answer.
   */
  @Post('test')
  @HttpCode(200)
  async testUnsaved(@Body() body: unknown): Promise<VaultTestResult> {
    const { user, endpoint, ...connection } = parseOrThrow(UnsavedVaultTest, body, 'request body');
    return withSealedSettings(this.bus, connection, SEAL_CONTEXTS.vaultTest(), 'target.connection', (sealed) =>
      this.bus.request('vault.connection.test.v1', { target: { connection: sealed }, user, endpoint }, { timeoutMs: 130_000 }),
    );
  }

  @Post(':name/test')
  @HttpCode(200)
  async testSaved(@Param('name') name: string, @Body() body: unknown): Promise<VaultTestResult> {
    const path = parseOrThrow(VaultPath, { name }, 'path');
    const { user, endpoint } = parseOrThrow(SavedVaultTest, body, 'request body');
    return this.bus.request('vault.connection.test.v1', { target: { name: path.name }, user, endpoint }, { timeoutMs: 130_000 });
  }

  @Get()
  async list(): Promise<VaultList> {
    const { connections } = await this.bus.request('vault.connection.list.v1', {});
    return { vaults: connections };
  }
}
