import { Body, Controller, Get, Put } from '@nestjs/common';
import { APPLIANCE_SEAL_CONTEXT, ApplianceConnectionInput, OpenEcmError, parseOrThrow, type ApplianceConnectionView } from '@openecm/contracts';
import { sealTo } from '@openecm/crypto';
import { Bus } from '@openecm/messaging';
import { Authorize } from '../oauth/api-auth.guard';

/**
 * The appliance connection, owned by session-reporting. The settings cross the bus sealed to session-reporting's
 * key (derived from APPLIANCE_SETTINGS_KEYS), so the client secret is readable by it alone.
 */
@Controller('api/v1/admin/appliance')
@Authorize('admin')
export class ApplianceConnectionHttpController {
  constructor(private readonly bus: Bus) {}

  @Get()
  get(): Promise<ApplianceConnectionView> {
    return this.bus.request('reporting.appliance.get.v1', {});
  }

  @Put()
  async put(@Body() body: unknown): Promise<ApplianceConnectionView> {
    const settings = parseOrThrow(ApplianceConnectionInput, body, 'request body');
    const send = async () =>
      this.bus.request('reporting.appliance.put.v1', { connection: await sealTo(await this.bus.request('reporting.sealing-key.get.v1', {}), settings, APPLIANCE_SEAL_CONTEXT) });
    try {
      return await send();
    } catch (error) {
      // while APPLIANCE_SETTINGS_KEYS change, the instance that answered may hold another key: sealed once more
      if (!(error instanceof OpenEcmError && error.code === 'VALIDATION_FAILED' && error.fields?.some((f) => f.field === 'connection'))) throw error;
      return send();
    }
  }
}
