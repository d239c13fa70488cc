export * from './apps';
export * from './infra';
