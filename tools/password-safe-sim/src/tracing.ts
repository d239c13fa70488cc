import { startTelemetry } from '@openecm/telemetry/register';

startTelemetry('password-safe-sim');
