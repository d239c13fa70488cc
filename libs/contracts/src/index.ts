export * from './errors';
export * from './validation';
export * from './model';
export * from './vault-settings';
export * from './subjects';
export * from './events';
export * from './gateway-api';
export * from './ops';
