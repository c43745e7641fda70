/** A stateful stand-in for the TrueFoundry users API over real HTTP, for tests and for local runs without a tenant. */
export type { FaultSettings, ScriptedFault } from './faults';
export { type CallRecord, type Sandbox, type SandboxOptions, startSandbox } from './server';
export type { SandboxUser, SeedUserInput, SentEmail } from './user-directory';
