import { MeshctlError } from '../errors.js';
import { isObject, kindOf } from '../envoy/json.js';
import type {
  CertsDump,
  GatewayAddress,
  WorkloadState,
  ZtunnelPolicy,
  ZtunnelService,
  ZtunnelWorkload,
} from './types.js';

/**
 * Reading a ztunnel /config_dump: every section checked where meshctl reads it, broken entries skipped
 * with a reason (never a crash, never a guessed value), fields meshctl does not know left alone (a newer
 * ztunnel adds some; they stay in -o json). The objects are the parsed JSON itself, not copies: a
 * large mesh's dump holds tens of thousands of them.
 */

export type Section = 'workloads' | 'services' | 'policies' | 'certificates' | 'workloadState';
export const SECTIONS: readonly Section[] = ['workloads', 'services', 'policies', 'certificates', 'workloadState'];

export interface DumpProblem {
  section: Section;
  /** e.g. `workload "bookinfo/reviews-v1-…"`, or the section itself */
  what: string;
  reason: string;
}

/** One entry of workloadState with the key it was found under (the pod's Kubernetes UID). */
export interface WorkloadStateEntry extends WorkloadState {
  uid: string;
}

export interface ParsedDump {
  /** For messages: the file, `stdin`, or `pod.namespace`. */
  source: string;
  /** Sections present in the document (usable or not). */
  present: Set<Section>;
  /** Sections present but not readable at all (wrong type). */
  unusable: Map<Section, string>;
  workloads: ZtunnelWorkload[];
  services: ZtunnelService[];
  policies: ZtunnelPolicy[];
  certificates: CertsDump[];
  workloadState: WorkloadStateEntry[];
  /** Entries skipped, and why. */
  problems: DumpProblem[];
  /** The whole document, for -o json|yaml. */
  raw: Record<string, unknown>;
}

/** What a document that is not a ztunnel dump most likely is, to say so in the error. */
export function envoyKind(doc: unknown): string | undefined {
  if (!isObject(doc)) return undefined;
  if (Array.isArray(doc.configs)) return 'an Envoy config dump (a sidecar\'s or gateway\'s /config_dump)';
  if (Array.isArray(doc.cluster_statuses)) return "Envoy's /clusters?format=json answer";
  if (isObject(doc.bootstrap) || isObject(doc.command_line_options)) return "Envoy's /server_info answer";
  return undefined;
}

/** True for a document with ztunnel's top-level sections and none of Envoy's. */
export function looksLikeZtunnelDump(doc: unknown): boolean {
  if (!isObject(doc) || envoyKind(doc)) return false;
  return SECTIONS.some((s) => s in doc);
}

/** Checks and indexes nothing yet: see model.ts for the lookups. Throws for a document of the wrong kind. */
export function parseZtunnelDump(doc: unknown, source: string): ParsedDump {
  if (!isObject(doc)) throw new MeshctlError(`${source}: not a ztunnel config dump (the document is ${kindOf(doc)}, expected an object)`);
  const other = envoyKind(doc);
  if (other) throw new MeshctlError(`${source}: this is ${other}, not a ztunnel's; read it with meshctl proxy-config`);
  const present = new Set(SECTIONS.filter((s) => s in doc));
  if (present.size === 0) {
    const keys = Object.keys(doc).slice(0, 6).join(', ');
    throw new MeshctlError(
      `${source}: not a ztunnel config dump (none of ${SECTIONS.join(', ')}${keys ? `; it has ${keys}${Object.keys(doc).length > 6 ? ', …' : ''}` : '; it is empty'})`,
    );
  }
  const out: ParsedDump = {
    source,
    present,
    unusable: new Map(),
    workloads: [],
    services: [],
    policies: [],
    certificates: [],
    workloadState: [],
    problems: [],
    raw: doc,
  };
  out.workloads = entries(doc, 'workloads', out, checkWorkload, (w) => `workload "${w.namespace}/${w.name}"`);
  out.services = entries(doc, 'services', out, checkService, (s) => `service "${s.namespace}/${s.hostname}"`);
  out.policies = entries(doc, 'policies', out, checkPolicy, (p) => `policy "${p.namespace}/${p.name}"`);
  out.certificates = entries(doc, 'certificates', out, checkCerts, (c) => `certificate "${c.identity}"`);
  out.workloadState = workloadStates(doc, out);
  return out;
}

/** A check returns the reason an entry cannot be used, or nothing. */
type Check = (v: Record<string, unknown>) => string | undefined;

/** A section as a list (current ztunnels) or a map keyed by address/name (older ones), in document order. */
function entries<T>(doc: Record<string, unknown>, section: Section, out: ParsedDump, check: Check, label: (v: T) => string): T[] {
  const v = doc[section];
  if (v === undefined || v === null) {
    if (v === null) out.present.delete(section);
    return [];
  }
  let list: unknown[];
  let keys: string[] | undefined;
  if (Array.isArray(v)) list = v;
  else if (isObject(v)) {
    keys = Object.keys(v);
    list = Object.values(v);
  } else {
    const reason = `it is ${kindOf(v)}, expected a list or a map`;
    out.unusable.set(section, reason);
    out.problems.push({ section, what: `the ${section} section`, reason });
    return [];
  }
  const singular = section.replace(/s$/, '');
  const kept: T[] = [];
  // the older map form lists a workload once per address: keep it once
  const seen = keys && section === 'workloads' ? new Set<string>() : undefined;
  const where = (i: number) => (keys ? `${singular} "${keys[i]}"` : `${singular} #${i + 1}`);
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    if (!isObject(e)) {
      out.problems.push({ section, what: where(i), reason: `it is ${kindOf(e)}, expected an object` });
      continue;
    }
    const why = check(e);
    if (why) {
      const named = typeof e.name === 'string' || typeof e.identity === 'string' ? label(e as T) : where(i);
      out.problems.push({ section, what: named, reason: why });
      continue;
    }
    if (seen) {
      const id = typeof e.uid === 'string' && e.uid !== '' ? e.uid : `${String(e.namespace)}/${String(e.name)}`;
      if (seen.has(id)) continue;
      seen.add(id);
    }
    kept.push(e as T);
  }
  return kept;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const optional = (v: unknown, ok: (x: unknown) => boolean): boolean => v === undefined || v === null || ok(v);

function field(e: Record<string, unknown>, name: string, expected: string, ok: (x: unknown) => boolean, required = false): string | undefined {
  const v = e[name];
  if (v === undefined || v === null) return required ? `it has no ${name}` : undefined;
  return ok(v) ? undefined : `${name} is ${kindOf(v)}, expected ${expected}`;
}

function checkGateway(v: unknown): boolean {
  return isObject(v) && isStr(v.destination) && optional(v.hboneMtlsPort, (p) => typeof p === 'number');
}

/**
 * The common case, checked inline (plain loops, no lists built to loop over: this runs once per
 * workload, tens of thousands of times in a large mesh, mostly before the JIT has optimised anything).
 * Anything it doubts goes to the detailed check, which says why.
 */
function workloadLooksRight(w: Record<string, unknown>): boolean {
  if (typeof w.namespace !== 'string') return false;
  let v = w.name;
  if (v != null && typeof v !== 'string') return false;
  v = w.uid;
  if (v != null && typeof v !== 'string') return false;
  v = w.protocol;
  if (v != null && typeof v !== 'string') return false;
  v = w.status;
  if (v != null && typeof v !== 'string') return false;
  v = w.node;
  if (v != null && typeof v !== 'string') return false;
  v = w.hostname;
  if (v != null && typeof v !== 'string') return false;
  v = w.network;
  if (v != null && typeof v !== 'string') return false;
  v = w.serviceAccount;
  if (v != null && typeof v !== 'string') return false;
  v = w.trustDomain;
  if (v != null && typeof v !== 'string') return false;
  v = w.workloadIp;
  if (v != null && typeof v !== 'string') return false;
  return (
    noneOrStrings(w.workloadIps) &&
    noneOrStrings(w.services) &&
    noneOrStrings(w.authorizationPolicies) &&
    noneOrGateway(w.waypoint) &&
    noneOrGateway(w.networkGateway)
  );
}

/** Absent, or a list of strings. */
function noneOrStrings(v: unknown): boolean {
  if (v == null) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

/** Absent, or a gateway address: a destination string and, optionally, a numeric port. */
function noneOrGateway(v: unknown): boolean {
  if (v == null) return true;
  if (typeof v !== 'object') return false;
  const g = v as Record<string, unknown>;
  return typeof g.destination === 'string' && (g.hboneMtlsPort == null || typeof g.hboneMtlsPort === 'number');
}

const checkWorkload: Check = (w) => (workloadLooksRight(w) ? undefined : checkWorkloadFields(w));

const checkWorkloadFields: Check = (w) =>
  field(w, 'namespace', 'a string', isStr, true) ??
  field(w, 'name', 'a string', isStr) ??
  field(w, 'uid', 'a string', isStr) ??
  field(w, 'workloadIps', 'a list of addresses', isStrList) ??
  field(w, 'workloadIp', 'an address', isStr) ??
  field(w, 'protocol', 'a string', isStr) ??
  field(w, 'status', 'a string', isStr) ??
  field(w, 'node', 'a string', isStr) ??
  field(w, 'hostname', 'a string', isStr) ??
  field(w, 'network', 'a string', isStr) ??
  field(w, 'serviceAccount', 'a string', isStr) ??
  field(w, 'trustDomain', 'a string', isStr) ??
  field(w, 'waypoint', 'an object with a destination', checkGateway) ??
  field(w, 'networkGateway', 'an object with a destination', checkGateway) ??
  field(w, 'services', 'a list of namespace/hostname', isStrList) ??
  field(w, 'authorizationPolicies', 'a list of namespace/name', isStrList);

function checkEndpoints(v: unknown): boolean {
  return isObject(v) && Object.values(v).every((e) => isObject(e) && optional(e.workloadUid, isStr) && optional(e.port, isObject));
}

/** The common case, checked inline as for workloads; anything it doubts goes to the detailed check. */
function serviceLooksRight(s: Record<string, unknown>): boolean {
  if (typeof s.name !== 'string' || typeof s.namespace !== 'string' || typeof s.hostname !== 'string') return false;
  if (!noneOrStrings(s.vips) || !noneOrStrings(s.subjectAltNames) || !noneOrGateway(s.waypoint)) return false;
  const ports = s.ports;
  if (ports != null && (typeof ports !== 'object' || Array.isArray(ports))) return false;
  return noneOrEndpoints(s.endpoints);
}

/** Absent, or a map of endpoints, each an object whose workloadUid and port, if there, are a string and a map. */
function noneOrEndpoints(v: unknown): boolean {
  if (v == null) return true;
  if (typeof v !== 'object' || Array.isArray(v)) return false;
  const eps = v as Record<string, Record<string, unknown> | null>;
  for (const key in eps) {
    const e = eps[key];
    if (e === null || typeof e !== 'object' || Array.isArray(e)) return false;
    const uid = e.workloadUid;
    if (uid != null && typeof uid !== 'string') return false;
    const port = e.port;
    if (port != null && (typeof port !== 'object' || Array.isArray(port))) return false;
  }
  return true;
}

const checkService: Check = (s) => (serviceLooksRight(s) ? undefined : checkServiceFields(s));

const checkServiceFields: Check = (s) =>
  field(s, 'name', 'a string', isStr, true) ??
  field(s, 'namespace', 'a string', isStr, true) ??
  field(s, 'hostname', 'a string', isStr, true) ??
  field(s, 'vips', 'a list of network/IP', isStrList) ??
  field(s, 'ports', 'a map of ports', isObject) ??
  field(s, 'endpoints', 'a map of workload UIDs to endpoints', checkEndpoints) ??
  field(s, 'waypoint', 'an object with a destination', checkGateway) ??
  field(s, 'subjectAltNames', 'a list of strings', isStrList);

const isRules = (v: unknown): boolean =>
  Array.isArray(v) && v.every((rule) => Array.isArray(rule) && rule.every((clause) => Array.isArray(clause) && clause.every(isObject)));

const checkPolicy: Check = (p) =>
  field(p, 'name', 'a string', isStr, true) ??
  field(p, 'namespace', 'a string', isStr, true) ??
  field(p, 'scope', 'a string', isStr, true) ??
  field(p, 'action', 'a string', isStr, true) ??
  field(p, 'rules', 'a list of rules (lists of clauses of match groups)', isRules);

const isCertList = (v: unknown): boolean => Array.isArray(v) && v.every(isObject);

const checkCerts: Check = (c) =>
  field(c, 'identity', 'a string', isStr, true) ??
  field(c, 'state', 'a string', isStr, true) ??
  field(c, 'certChain', 'a list of certificates', isCertList) ??
  field(c, 'rootCerts', 'a list of certificates', isCertList);

const isConnList = (v: unknown): boolean => Array.isArray(v) && v.every(isObject);

function workloadStates(doc: Record<string, unknown>, out: ParsedDump): WorkloadStateEntry[] {
  const v = doc.workloadState;
  if (v === undefined || v === null) {
    if (v === null) out.present.delete('workloadState');
    return [];
  }
  if (!isObject(v)) {
    const reason = `it is ${kindOf(v)}, expected a map of pod UIDs to states`;
    out.unusable.set('workloadState', reason);
    out.problems.push({ section: 'workloadState', what: 'the workloadState section', reason });
    return [];
  }
  const kept: WorkloadStateEntry[] = [];
  for (const [uid, s] of Object.entries(v)) {
    const what = `workload state "${uid}"`;
    if (!isObject(s)) {
      out.problems.push({ section: 'workloadState', what, reason: `it is ${kindOf(s)}, expected an object` });
      continue;
    }
    const why =
      field(s, 'info', 'an object with name and namespace', (i) => isObject(i) && isStr(i.name) && isStr(i.namespace), true) ??
      field(s, 'connections', 'an object with inbound and outbound lists', (c) => isObject(c) && optional(c.inbound, isConnList) && optional(c.outbound, isConnList));
    if (why) {
      out.problems.push({ section: 'workloadState', what, reason: why });
      continue;
    }
    kept.push({ uid, ...(s as unknown as WorkloadState) });
  }
  return kept;
}

/** Gateway addresses ztunnel wrote before `hboneMtlsPort` existed had only a destination. */
export function gatewayPort(g: GatewayAddress): number {
  return typeof g.hboneMtlsPort === 'number' ? g.hboneMtlsPort : 15008;
}
