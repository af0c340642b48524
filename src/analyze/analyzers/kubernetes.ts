import type { Resource } from '../../resources/index.js';
import { fullName, type Analyzer, type Context } from '../analyzer.js';
import type { Arg } from '../messages.js';
import { K, arr, dig, num, obj, selectorMatches, str, strMap, type Snapshot } from '../snapshot.js';

/** Namespaces the injector never touches (istio's inject.IgnoredNamespaces). */
const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

export function isSystemNamespace(ns: string): boolean {
  return SYSTEM_NAMESPACES.has(ns);
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'grpc', 'grpc-web', 'http', 'http_proxy', 'http2', 'https', 'tls', 'mongo', 'redis', 'mysql']);
const WELL_KNOWN_PORTS = new Set([25, 53, 3306, 27017]);

/** Istio's ConvertProtocol: does this Service port tell Istio its protocol (explicitly or by convention)? */
export function portProtocolKnown(port: Record<string, unknown>): boolean {
  const proto = str(port.protocol).toUpperCase();
  if (proto === 'UDP' || proto === 'SCTP') return true;
  const app = str(port.appProtocol).toLowerCase();
  if (app) {
    if (app === 'kubernetes.io/h2c' || app === 'kubernetes.io/ws' || app === 'kubernetes.io/wss') return true;
    if (PROTOCOLS.has(app)) return true;
  }
  const name = str(port.name).toLowerCase();
  if (name.startsWith('grpc-web')) return true;
  const prefix = name.includes('-') ? name.slice(0, name.indexOf('-')) : name;
  if (PROTOCOLS.has(prefix)) return true;
  return WELL_KNOWN_PORTS.has(num(port.port));
}

/** istioctl's util.IsIstioControlPlane: resources labelled `istio`, or `release: istio`. */
export function isIstioControlPlane(r: Resource): boolean {
  const labels = strMap(r.metadata.labels);
  return 'istio' in labels || labels.release === 'istio';
}

export const portNameAnalyzer: Analyzer = {
  name: 'service.PortNameAnalyzer',
  description: 'Checks the port names associated with each service',
  codes: ['IST0118', 'IST0150'],
  analyze(ctx: Context) {
    for (const svc of ctx.snapshot.of(K.Service)) {
      if (isSystemNamespace(svc.namespace) || isIstioControlPlane(svc)) continue;
      // gateways and waypoints Istio deploys itself name their ports its own way
      if (strMap(svc.metadata.labels)['gateway.istio.io/managed']) continue;
      const spec = obj(svc.object.spec);
      const external = str(spec.type) === 'ExternalName';
      arr(spec.ports).forEach((p, i) => {
        const port = obj(p);
        if (portProtocolKnown(port) && !(str(port.name) === 'tcp' && external)) return;
        const at = ['spec', 'ports', i];
        if (external) ctx.report(svc, 'IST0150', [], at);
        else ctx.report(svc, 'IST0118', [str(port.name), num(port.port), targetPort(port)], at);
      });
    }
  },
};

/** Kubernetes defaults an unset targetPort to the port. */
function targetPort(port: Record<string, unknown>): string {
  const t = port.targetPort;
  if (t === undefined || t === null || t === '' || t === 0) return String(num(port.port));
  return String(t);
}

function inMesh(snap: Snapshot, d: Resource): boolean {
  const tpl = obj(dig(d.object, ['spec', 'template']));
  const containers = arr(obj(tpl.spec).containers);
  if (containers.some((c) => str(obj(c).name) === 'istio-proxy' && str(obj(c).image))) return true;
  const labels = strMap(obj(tpl.metadata).labels);
  if ('sidecar.istio.io/inject' in labels) return labels['sidecar.istio.io/inject'] === 'true';
  const annos = strMap(obj(tpl.metadata).annotations);
  if ('sidecar.istio.io/inject' in annos) return annos['sidecar.istio.io/inject'] === 'true';
  const ns = snap.get(K.Namespace, '', d.namespace);
  if (ns) return strMap(ns.metadata.labels)['istio-injection'] === 'enabled';
  return false;
}

interface SelectingService {
  svc: Resource;
  sel: Record<string, string>;
  index: number;
}

export const multiServiceAnalyzer: Analyzer = {
  name: 'deployment.MultiServiceAnalyzer',
  description: 'Checks association between services and pods',
  codes: ['IST0116', 'IST0137'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    // Services with a selector, indexed by namespace and the selector's first label: a Deployment
    // looks up each of its pod labels instead of testing every Service of its namespace
    const byFirstLabel = new Map<string, SelectingService[]>();
    const services = snap.of(K.Service);
    for (let index = 0; index < services.length; index++) {
      const svc = services[index];
      const sel = strMap(obj(svc.object.spec).selector);
      const keys = Object.keys(sel);
      if (keys.length === 0) continue;
      const key = `${svc.namespace}\n${keys[0]}=${sel[keys[0]]}`;
      let list = byFirstLabel.get(key);
      if (!list) byFirstLabel.set(key, (list = []));
      list.push({ svc, sel, index });
    }
    // one small function per Deployment rather than one large loop body: cheaper for V8 to optimise
    const alone = new Map<Resource, Conflict[]>();
    for (const d of snap.of(K.Deployment)) checkDeployment(ctx, byFirstLabel, alone, d);
  },
};

/** A finding of the multi-service check, less the Deployment's name: [code, ...args after the name]. */
type Conflict = ['IST0116' | 'IST0137', ...Arg[]];

function checkDeployment(ctx: Context, byFirstLabel: Map<string, SelectingService[]>, alone: Map<Resource, Conflict[]>, d: Resource): void {
  if (strMap(d.metadata.labels)['gateway.istio.io/managed'] === 'istio.io-mesh-controller') return;
  const podLabels = strMap(dig(d.object, TEMPLATE_LABELS));
  const matching = servicesSelecting(byFirstLabel, d.namespace, podLabels);
  // no Service, no conflict: the (pure) mesh membership test is needed only when there is one
  if (matching.length === 0 || !inMesh(ctx.snapshot, d)) return;
  let conflicts: Conflict[] | undefined;
  if (matching.length === 1) {
    // the usual case, one Service: what it conflicts with in itself is the same for every Deployment
    conflicts = alone.get(matching[0]);
    if (!conflicts) alone.set(matching[0], (conflicts = portConflicts(matching)));
  } else {
    conflicts = portConflicts(matching);
  }
  for (const [code, ...args] of conflicts) ctx.report(d, code, [d.name, ...args], ['metadata', 'name']);
}

/** Ports of these Services (selecting one pod) that clash: one port with two protocols, one target port behind two ports. */
function portConflicts(matching: readonly Resource[]): Conflict[] {
  if (distinctPorts(matching)) return NO_CONFLICTS;
  const byPort = new Map<number, Map<string, string[]>>();
  const byTarget = new Map<string, Map<number, string>>();
  for (const svc of matching) {
    for (const p of arr(obj(svc.object.spec).ports)) {
      const port = obj(p);
      const n = num(port.port);
      const proto = str(port.protocol) || 'TCP';
      let protos = byPort.get(n);
      if (!protos) byPort.set(n, (protos = new Map()));
      const names = protos.get(proto);
      if (names) names.push(fullName(svc));
      else protos.set(proto, [fullName(svc)]);
      const tp = targetPort(port);
      let ports = byTarget.get(tp);
      if (!ports) byTarget.set(tp, (ports = new Map()));
      ports.set(n, fullName(svc));
    }
  }
  const out: Conflict[] = [];
  for (const [port, protos] of byPort) {
    if (protos.size < 2) continue;
    out.push(['IST0116', port, [...protos.values()].flat().sort()]);
  }
  for (const [tp, ports] of byTarget) {
    if (ports.size < 2) continue;
    out.push(['IST0137', [...ports.values()].sort(), tp, [...ports.keys()].sort((a, b) => a - b)]);
  }
  return out;
}

const NO_CONFLICTS: Conflict[] = [];

/**
 * True when no two ports share a number or a target port, so nothing can clash (the usual case,
 * decided without building maps). Gives up (false) on long port lists, which take the full check.
 */
function distinctPorts(matching: readonly Resource[]): boolean {
  const numbers: number[] = [];
  const targets: string[] = [];
  for (const svc of matching) {
    const ports = arr(obj(svc.object.spec).ports);
    for (let i = 0; i < ports.length; i++) {
      const port = obj(ports[i]);
      const n = num(port.port);
      const tp = targetPort(port);
      if (numbers.length === 8 || numbers.includes(n) || targets.includes(tp)) return false;
      numbers.push(n);
      targets.push(tp);
    }
  }
  return true;
}

const TEMPLATE_LABELS = ['spec', 'template', 'metadata', 'labels'];

/** The Services whose selector takes in these pod labels, in input order, each once. */
function servicesSelecting(byFirstLabel: Map<string, SelectingService[]>, namespace: string, podLabels: Record<string, string>): Resource[] {
  const found: SelectingService[] = [];
  for (const k in podLabels) {
    const list = byFirstLabel.get(`${namespace}\n${k}=${podLabels[k]}`);
    if (list) for (const c of list) if (selectorMatches(c.sel, podLabels)) found.push(c);
  }
  if (found.length === 1) return [found[0].svc];
  // in input order, as the scan found them; a key with '=' in it could find a Service twice
  found.sort((a, b) => a.index - b.index);
  const out: Resource[] = [];
  for (let i = 0; i < found.length; i++) if (i === 0 || found[i - 1].index !== found[i].index) out.push(found[i].svc);
  return out;
}
