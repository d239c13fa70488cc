export * from './apps';
export * from './gateway-answers';
export * from './infra';
export * from './openapi-conformance';
export * from './otlp-collector';
export * from './ports';
export * from './system';
