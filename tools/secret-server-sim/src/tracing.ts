import { startTelemetry } from '@openecm/telemetry/register';

startTelemetry('secret-server-sim');
