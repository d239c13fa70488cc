export * from './data-source';
export * from './persistence.module';
export * from './group-commit';
export * from './prepared';
