export * from './parse';
export * from './query';
export * from './soap';
export * from './write';
