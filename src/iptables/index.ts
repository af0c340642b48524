/**
 * The iptables domain for other commands (e.g. `meshctl trace` uses the trace as a request's first step):
 * parse saved rules into the model, and walk a packet through them. Both are pure.
 */
export { parseIptables, type ParseOptions } from './parse.js';
export { traceIptables, traceTrail, resolvePacket, type PacketSpec, type ResolvedPacket, type TraceResult, type TraceStep, type Verdict } from './trace.js';
export { fileSource, podSource, type IptablesSource, type LoadedRules } from './source.js';
export { toRestoreText } from './restore.js';
export type { Chain, Family, Match, Rule, Ruleset, Section, Table, Target } from './model.js';
