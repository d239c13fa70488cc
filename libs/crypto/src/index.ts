export * from './envelope';
export * from './secret-hash';
