import { startTelemetry } from '@openecm/telemetry/register';

startTelemetry('session-reporting');
