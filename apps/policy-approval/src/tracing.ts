import { startTelemetry } from '@openecm/telemetry/register';

startTelemetry('policy-approval');
