export { describeVaultAdapterConformance, type ConformanceFault, type ConformanceSim, type VaultAdapterFixture } from './kit';
