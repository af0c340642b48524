import { goSortStrict } from '../envoy/gosort.js';
import type { WorkloadStateEntry } from './parse.js';
import {
  hostEnd,
  joinHostPort,
  vipAddress,
  workloadIps,
  workloadStatus,
  type ZtunnelModel,
} from './model.js';
import type { CertDump, ZtunnelPolicy, ZtunnelService, ZtunnelWorkload } from './types.js';

/**
 * istioctl's `ztunnel-config` tables (istioctl/pkg/writer/ztunnel/configdump): the same columns, cells,
 * order and filters. Go's tabwriter pads these with one space (certificates: five), which is what
 * `padding` says to src/output/table.ts.
 */

export interface Table {
  headers: string[];
  rows: string[][];
  padding: number;
}

/** The pod a live run was pointed at when it is a workload, not a ztunnel (istioctl's workload view). */
export interface PodFilter {
  name: string;
  namespace: string;
}

export interface WorkloadFilter {
  /** --workload-namespace (case-insensitive, as istioctl's strings.EqualFold) */
  namespace?: string;
  /** --address: one of the workload's IPs */
  address?: string;
  /** --workload-node */
  node?: string;
  pod?: PodFilter;
}

const eqFold = (a: string | undefined, b: string) => (a ?? '').toLowerCase() === b.toLowerCase();

export function filterWorkloads(model: ZtunnelModel, f: WorkloadFilter): ZtunnelWorkload[] {
  if (!f.namespace && !f.address && !f.node && !f.pod) return model.workloads.slice();
  return model.workloads.filter(
    (w) =>
      (!f.namespace || eqFold(w.namespace, f.namespace)) &&
      (!f.address || workloadIps(w).some((ip) => eqFold(ip, f.address!))) &&
      (!f.node || eqFold(w.node, f.node)) &&
      (!f.pod || (w.name === f.pod.name && w.namespace === f.pod.namespace)),
  );
}

/** NAMESPACE POD NAME ADDRESS NODE WAYPOINT PROTOCOL, sorted by `namespace.name` then node (Go's sort.Slice). */
export function workloadTable(model: ZtunnelModel, f: WorkloadFilter): Table {
  // The keys built once per workload, not per comparison: the same comparisons, so the same order.
  // A large mesh has tens of thousands of rows, built once: the work per row is in small functions
  // (V8 optimises those quickly; optimising a whole loop of inlined steps took longer than the loop).
  const list = filterWorkloads(model, f);
  const keyed = new Array<KeyedWorkload>(list.length);
  for (let i = 0; i < list.length; i++) keyed[i] = keyedWorkload(list[i]);
  goSortStrict(keyed, workloadLess, workloadCompare);
  const rows = new Array<string[]>(keyed.length);
  for (let i = 0; i < keyed.length; i++) rows[i] = workloadRow(model, keyed[i]);
  return { headers: ['NAMESPACE', 'POD NAME', 'ADDRESS', 'NODE', 'WAYPOINT', 'PROTOCOL'], rows, padding: 1 };
}

function keyedWorkload(w: ZtunnelWorkload): KeyedWorkload {
  return { w, key: `${w.namespace}.${w.name}`, node: w.node ?? '' };
}

function workloadRow(model: ZtunnelModel, { w, node }: KeyedWorkload): string[] {
  const ips = workloadIps(w);
  const address = ips.length === 1 ? ips[0] : ips.length > 0 ? ips.join(',') : (w.hostname ?? '');
  return [w.namespace, w.name ?? '', address, node, w.waypoint ? model.waypointDisplayName(w.waypoint) : 'None', w.protocol || 'TCP'];
}

type KeyedWorkload = { w: ZtunnelWorkload; key: string; node: string };
/** istioctl's order: by `namespace.name`, then node (a strict weak ordering, so ties are the only place Go's algorithm shows) */
const workloadLess = (a: KeyedWorkload, b: KeyedWorkload): boolean => (a.key !== b.key ? a.key < b.key : a.node < b.node);
const workloadCompare = (a: KeyedWorkload, b: KeyedWorkload): number =>
  a.key !== b.key ? (a.key < b.key ? -1 : 1) : a.node === b.node ? 0 : a.node < b.node ? -1 : 1;

export interface ServiceFilter {
  /** --service-namespace */
  namespace?: string;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Filtered and sorted by namespace, name, hostname (also the -o json order, as istioctl's). */
export function filterServices(model: ZtunnelModel, f: ServiceFilter): ZtunnelService[] {
  const list = f.namespace ? model.services.filter((s) => eqFold(s.namespace, f.namespace!)) : model.services.slice();
  return list.sort(byNamespaceNameHostname);
}

function byNamespaceNameHostname(a: ZtunnelService, b: ZtunnelService): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return cmp(a.hostname, b.hostname);
}

/** NAMESPACE SERVICE NAME SERVICE VIP WAYPOINT ENDPOINTS; ENDPOINTS is healthy/all. */
export function serviceTable(model: ZtunnelModel, f: ServiceFilter): Table {
  const list = filterServices(model, f);
  const rows = new Array<string[]>(list.length);
  for (let i = 0; i < list.length; i++) rows[i] = serviceRow(model, list[i]);
  return { headers: ['NAMESPACE', 'SERVICE NAME', 'SERVICE VIP', 'WAYPOINT', 'ENDPOINTS'], rows, padding: 1 };
}

function serviceRow(model: ZtunnelModel, s: ZtunnelService): string[] {
  const vips = s.vips;
  const vip = !vips ? '' : vips.length === 1 ? vipAddress(vips[0]) : vips.map(vipAddress).join(',');
  return [s.namespace, s.name, vip, s.waypoint ? model.waypointDisplayName(s.waypoint) : 'None', endpointCounts(model, s)];
}

/** healthy/all: an endpoint is healthy when the workload behind it is. */
function endpointCounts(model: ZtunnelModel, s: ZtunnelService): string {
  let all = 0;
  let healthy = 0;
  const eps = s.endpoints;
  if (eps) {
    for (const key in eps) {
      all++;
      const uid = eps[key].workloadUid;
      const w = uid ? model.workloadByUid(uid) : undefined;
      if (w && workloadStatus(w) === 'Healthy') healthy++;
    }
  }
  return `${healthy}/${all}`;
}

export interface PolicyFilter {
  /** --policy-namespace */
  namespace?: string;
}

export function filterPolicies(model: ZtunnelModel, f: PolicyFilter): ZtunnelPolicy[] {
  return model.policies
    .filter((p) => !f.namespace || eqFold(p.namespace, f.namespace))
    .sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
}

/** NAMESPACE POLICY NAME ACTION SCOPE */
export function policyTable(model: ZtunnelModel, f: PolicyFilter): Table {
  const rows = filterPolicies(model, f).map((p) => [p.namespace, p.name, p.action, p.scope]);
  return { headers: ['NAMESPACE', 'POLICY NAME', 'ACTION', 'SCOPE'], rows, padding: 1 };
}

/** A chain certificate's TYPE: the first is the leaf; with no rootCerts (older ztunnels) the last is the root. */
export type CertType = 'Leaf' | 'Intermediate' | 'Root' | 'NA';

export interface CertRow {
  identity: string;
  type: CertType;
  /** `Unavailable: <why>` reads `Unavailable` */
  status: string;
  /** the full state, with the reason when unavailable */
  state: string;
  valid: boolean;
  serial: string;
  notAfter: string;
  notBefore: string;
}

/** One row per certificate of each identity's chain and roots; one NA row for an identity without. */
export function certificateRows(model: ZtunnelModel, now: Date = new Date()): CertRow[] {
  const rows: CertRow[] = [];
  for (const c of model.certificates) {
    const status = c.state.includes('Unavailable') ? 'Unavailable' : c.state;
    const chain = c.certChain ?? [];
    const roots = c.rootCerts ?? [];
    const row = (type: CertType, cert: CertDump): CertRow => ({
      identity: c.identity,
      type,
      status,
      state: c.state,
      valid: certValid(cert, now),
      serial: serialHex(cert.serialNumber),
      notAfter: cert.expirationTime || 'NA',
      notBefore: cert.validFrom || 'NA',
    });
    if (chain.length === 0) {
      rows.push({ identity: c.identity, type: 'NA', status, state: c.state, valid: false, serial: 'NA', notAfter: 'NA', notBefore: 'NA' });
      continue;
    }
    const legacy = roots.length === 0;
    chain.forEach((cert, i) => rows.push(row(i === 0 ? 'Leaf' : i === chain.length - 1 && legacy ? 'Root' : 'Intermediate', cert)));
    for (const cert of roots) rows.push(row('Root', cert));
  }
  return rows;
}

/** CERTIFICATE NAME TYPE STATUS VALID CERT SERIAL NUMBER NOT AFTER NOT BEFORE (padding 5, as istioctl's). */
export function certificateTable(model: ZtunnelModel, now?: Date): Table {
  const rows = certificateRows(model, now).map((r) => [r.identity, r.type, r.status, String(r.valid), r.serial, r.notAfter, r.notBefore]);
  return { headers: ['CERTIFICATE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'], rows, padding: 5 };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** istioctl's certNotExpired: both dates RFC 3339 and now strictly between them. */
export function certValid(cert: CertDump, now: Date): boolean {
  if (!RFC3339.test(cert.validFrom ?? '') || !RFC3339.test(cert.expirationTime ?? '')) return false;
  const t = now.getTime();
  return t > Date.parse(cert.validFrom) && t < Date.parse(cert.expirationTime);
}

/** ztunnel writes serials in decimal; istioctl prints them in lowercase hex. Anything else is shown as it is. */
export function serialHex(serial: string | undefined): string {
  if (!serial) return 'NA';
  if (!/^\d+$/.test(serial)) return serial;
  return BigInt(serial).toString(16);
}

export interface ConnectionFilter {
  /** --workload-namespace */
  namespace?: string;
  direction?: 'inbound' | 'outbound';
  /** --raw: addresses as they are, not named */
  raw?: boolean;
  pod?: PodFilter;
}

/** workloadState filtered, sorted by namespace then name (also the -o json order). */
export function filterWorkloadStates(model: ZtunnelModel, f: ConnectionFilter): WorkloadStateEntry[] {
  return model.workloadState
    .filter((s) => (!f.namespace || s.info.namespace === f.namespace) && (!f.pod || (s.info.name === f.pod.name && s.info.namespace === f.pod.namespace)))
    .sort((a, b) => cmp(a.info.namespace, b.info.namespace) || cmp(a.info.name, b.info.name));
}

/**
 * WORKLOAD DIRECTION LOCAL REMOTE REMOTE TARGET PROTOCOL. Addresses are named as istioctl names them:
 * an IP that is a service's first VIP becomes its hostname, a workload's first IP its `name.namespace`.
 */
export function connectionTable(model: ZtunnelModel, f: ConnectionFilter): Table {
  const states = filterWorkloadStates(model, f);
  const names = f.raw ? undefined : addressNames(model, states);
  const name = (addr: string | null | undefined): string => {
    if (!addr) return '';
    if (!names) return addr;
    const end = hostEnd(addr);
    if (end < 0) return addr;
    const known = names.get(addr[0] === '[' ? addr.slice(1, end) : addr.slice(0, end));
    if (known === undefined) return addr;
    return joinHostPort(known, addr.slice(addr[0] === '[' ? end + 2 : end + 1));
  };
  const rows: string[][] = [];
  const inbound = f.direction !== 'outbound';
  const outbound = f.direction !== 'inbound';
  for (const s of states) {
    const who = `${s.info.name}.${s.info.namespace}`;
    const conns = s.connections;
    if (!conns) continue;
    if (inbound && conns.inbound) {
      for (const c of conns.inbound) rows.push([who, 'Inbound', name(c.actualDst), name(c.src), c.originalDst ?? '', c.protocol ?? '']);
    }
    if (outbound && conns.outbound) {
      for (const c of conns.outbound) rows.push([who, 'Outbound', name(c.src), name(c.actualDst), name(c.originalDst), c.protocol ?? '']);
    }
  }
  return { headers: ['WORKLOAD', 'DIRECTION', 'LOCAL', 'REMOTE', 'REMOTE TARGET', 'PROTOCOL'], rows, padding: 1 };
}

/**
 * istioctl's names for the addresses these connections use: a service's first VIP is its hostname, a
 * workload's first IP its `name.namespace`; the service wins a clash, the last of each kind wins among
 * its own (Go map assignment). Only the addresses that occur are looked up.
 */
function addressNames(model: ZtunnelModel, states: WorkloadStateEntry[]): Map<string, string> {
  const wanted = new Set<string>();
  const want = (addr: string | null | undefined) => {
    if (!addr) return;
    const end = hostEnd(addr);
    if (end >= 0) wanted.add(addr[0] === '[' ? addr.slice(1, end) : addr.slice(0, end));
  };
  for (const s of states) {
    const conns = s.connections;
    if (!conns) continue;
    if (conns.inbound) for (const c of conns.inbound) (want(c.src), want(c.actualDst));
    if (conns.outbound) for (const c of conns.outbound) (want(c.src), want(c.actualDst), want(c.originalDst));
  }
  const names = new Map<string, string>();
  const workloads = model.workloads;
  for (let i = 0; i < workloads.length; i++) {
    const w = workloads[i];
    const ips = w.workloadIps;
    const ip = ips ? (ips.length > 0 ? ips[0] : 'None') : (workloadIps(w)[0] ?? 'None');
    if (wanted.has(ip)) names.set(ip, `${w.name}.${w.namespace}`);
  }
  const services = new Map<string, string>();
  const list = model.services;
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    const vips = s.vips;
    const ip = vips && vips.length > 0 ? vipAddress(vips[0]) : 'None';
    if (wanted.has(ip)) services.set(ip, s.hostname);
  }
  for (const [ip, host] of services) names.set(ip, host);
  return names;
}
