// Every vault adapter the broker loads, one line each: an adapter's folder exports its registration (its vault
// type's settings and its adapter class). `npm run vault-types` derives the contracts' vault types from this list
// (libs/contracts/src/vault-types/index.ts); a unit test fails while they differ. See docs/adapters.md.
export { passwordSafe } from './password-safe';
export { secretServer } from './secret-server';
export { hashicorpVault } from './hashicorp-vault';
