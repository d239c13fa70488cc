import { startTelemetry } from '@openecm/telemetry/register';

startTelemetry('token-cache');
