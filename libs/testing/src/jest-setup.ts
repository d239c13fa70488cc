import { randomBytes } from 'node:crypto';

// Every test file gets its own NATS subject prefix, JetStream stream and Redis key prefix, so suites can run
// beside each other and beside a running OpenECM without seeing each other's traffic.
process.env['OPENECM_NAMESPACE'] ??= `t${randomBytes(4).toString('hex')}`;
process.env['LOG_LEVEL'] ??= 'warn';
