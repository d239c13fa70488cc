export { SimClock } from './clock';
export { FaultInjector, pause, registerFaultHook, type FaultedCall, type FaultHookOptions, type FaultMatch } from './faults';
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
export { captureLog, postControl, simHarness, waitFor, type ListeningSim, type SimHarness, type StartedSim } from './testing';
