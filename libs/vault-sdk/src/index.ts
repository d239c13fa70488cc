// The vault-adapter SDK: what an adapter implements (adapter.ts) and what the broker gives it (the transport,
// the address policy, the session cache's interface, a short-lived cache, error helpers). The conformance kit is imported from
// '@openecm/vault-sdk/conformance': it needs the test harness, which a service does not load.
export * from './adapter';
export * from './registration';
export * from './clients';
export * from './errors';
export * from './http/address-policy';
export * from './http/vault-http';
export * from './short-lived';
