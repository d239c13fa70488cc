export * from './apps';
export * from './infra';
export * from './otlp-collector';
export * from './ports';
export * from './system';
