export * from './bootstrap';
export * from './health';
export * from './metrics';
export * from './ops.module';
export * from './problem.filter';
export * from './redis';
export * from './ops-responder';
export * from './bullmq';
