export {
  describeVaultAdapterConformance,
  startVaultAdapters,
  vaultAdaptersTestEnv,
  type ConformanceFault,
  type ConformanceSim,
  type VaultAdapterFixture,
  type VaultAdaptersSystem,
} from './kit';
