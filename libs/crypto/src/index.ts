export * from './envelope';
export * from './secret-hash';
export * from './sealed-box';
export * from './secret-value';
