import { startTelemetry } from '@openecm/telemetry/register';

startTelemetry('appliance-gateway');
