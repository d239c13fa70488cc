export * from './env';
export * from './concerns';
