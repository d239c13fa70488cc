import { startTelemetry } from '@openecm/telemetry/register';

startTelemetry('vault-sim');
