/** The services a conformance run starts, loaded only once the kit has set their environment. */
export const CONFORMANCE_SERVICES = {
  vaultAdapters: async () => (await import('../src/app.module')).AppModule,
  tokenCache: async () => (await import('../../token-cache/src/app.module')).AppModule,
};
