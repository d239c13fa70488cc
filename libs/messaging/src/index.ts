export * from './bus';
export * from './envelope';
export * from './handles.decorator';
export * from './headers';
export * from './jetstream';
export * from './messaging.module';
export * from './namespace';
export * from './nats-connection';
