export * from './appliance-client';
export * from './flow';
export * from './seed';
export * from './site';
