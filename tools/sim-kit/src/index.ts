export { SimClock } from './clock';
export { generateArgument, padNumber, pickOne, pickWeighted, seededRandom } from './generate';
export {
  FaultInjector,
  lateFaultSchema,
  pause,
  registerFaultHook,
  registerVendorFaults,
  type FaultedCall,
  type FaultHookOptions,
  type FaultMatch,
  type LateFaultMatch,
  type VendorFaultOptions,
} from './faults';
export { SimStateBase } from './state';
export { registerControlRoutes, type ControlledState, type ControlRoutesOptions } from './control';
export { seedChecks, seedFiles, type SeedFiles, type SeedIssues } from './seed';
export {
  createSimServer,
  errorStatus,
  normaliseBasePath,
  sendJson,
  type SimLogger,
  type SimOptions,
  type SimServer,
  type SimServerOptions,
  type Simulator,
} from './server';
export { LOG_LEVELS, runSimulator, type SimulatorMain, type StartSimulator } from './run';
// Test helpers are imported from '@openecm/sim-kit/testing': they need dev dependencies a simulator does not.
