export * from './logger';
export * from './tracing';
export * from './metrics';
export * from './log-level';
export * from './http-server';
