export * from './env';
export * from './concerns';
export * from './version';
