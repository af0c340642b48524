import type { ChalkInstance } from 'chalk';
import { namedWaypoint, type Condition, type PodAmbientFacts, type WaypointBinding } from '../ambient/index.js';
import type { AuthorizationFacts } from './authz.js';
import type { PolicySummary, TrafficPolicySummary } from './destination-rules.js';
import { rbacPolicyName, type EnvoyFacts } from './envoy-view.js';
import type { RouteExposure, RouteUrl } from './gateway-api.js';
import type { GatewayExposure } from './gateways.js';
import type { MeshRouteFacts } from './mesh-routes.js';
import type { EffectiveMtls } from './mtls.js';
import type { PodFacts } from './pod.js';
import type { PodReport, ServiceDescribeReport } from './report.js';
import type { ServiceReport } from './service-report.js';

const L1 = '   ';
const L2 = '      ';
const RULE = '--------------------';

/** A report in istioctl's describe layout: blocks separated by dashes, problems as `WARNING:` lines. */
export function renderPodReport(r: PodReport, c: ChalkInstance, currentNs: string): string {
  const out: string[] = [];
  renderPod(out, r.pod, c, currentNs, r.ambient);
  r.services.forEach((s) => {
    out.push(RULE);
    renderService(out, s, c, currentNs);
  });
  const elsewhere = new Set([
    ...r.pod.warnings,
    ...r.services.flatMap((s) => s.warnings),
    ...r.mtls.warnings,
    ...r.authorization.warnings,
    ...r.exposures.flatMap((e) => e.warnings),
    ...(r.gatewayApiExposures ?? []).flatMap((e) => e.warnings),
    ...(r.ambient?.warnings ?? []),
    ...(r.envoy?.warnings ?? []),
  ]);
  const rest = r.warnings.filter((w) => !elsewhere.has(w));
  if (rest.length) {
    out.push(RULE);
    for (const w of rest) out.push(warn(c, w));
  }
  out.push(RULE);
  renderMtls(out, r.mtls, c, undefined);
  out.push(RULE);
  renderAuthz(out, r.authorization, c, undefined);
  renderExposures(out, r.exposures, c);
  renderRouteExposures(out, r.gatewayApiExposures ?? [], c);
  if (r.envoy) renderEnvoy(out, r.envoy, c);
  return out.join('\n') + '\n';
}

export function renderServiceReport(r: ServiceDescribeReport, c: ChalkInstance, currentNs: string): string {
  const out: string[] = [];
  const s = r.service;
  out.push(`${c.bold('Service:')} ${name(s.name, s.namespace, currentNs)}`);
  renderPorts(out, s);
  const meshed = r.pods.filter((p) => p.sidecar).length;
  const ambient = r.pods.filter((p) => p.ambient).length;
  const ready = r.pods.filter((p) => p.ready).length;
  out.push(`${L1}Pods: ${r.pods.length} (${meshed} with sidecar, ${ambient ? `${ambient} in ambient, ` : ''}${ready} ready)`);
  for (const p of r.pods) {
    const bits = [p.phase ?? 'unknown phase', p.sidecar ? (p.ready ? 'sidecar ready' : c.yellow('sidecar NOT READY')) : p.ambient ? 'ambient' : c.yellow('no sidecar')];
    if (p.subsets.length) bits.push(`subsets ${p.subsets.join(',')}`);
    out.push(`${L2}${p.name}: ${bits.join(', ')}`);
  }
  if (r.waypoint) {
    out.push(`${L1}Waypoint: ${bindingText(r.waypoint.binding)}${conditionText(r.waypoint.condition)}`);
  }
  for (const w of r.warnings.filter((w) => !s.warnings.includes(w) && isServiceLevel(w, r))) out.push(warn(c, w));
  renderServicePolicies(out, s, c, currentNs);
  for (const g of r.mtls) {
    out.push(RULE);
    renderMtls(out, g, c, r.mtls.length > 1 || g.pods.length === 0 ? g.pods : undefined);
  }
  for (const g of r.authorization) {
    out.push(RULE);
    renderAuthz(out, g, c, r.authorization.length > 1 ? g.pods : undefined);
  }
  renderExposures(out, r.exposures, c);
  renderRouteExposures(out, r.gatewayApiExposures ?? [], c);
  if (r.envoy) renderEnvoy(out, r.envoy, c);
  return out.join('\n') + '\n';
}

/** Warnings about the service's pods themselves (not already printed in another block). */
function isServiceLevel(w: string, r: ServiceDescribeReport): boolean {
  const elsewhere = [
    ...r.mtls.flatMap((g) => g.warnings),
    ...r.authorization.flatMap((g) => g.warnings),
    ...r.exposures.flatMap((e) => e.warnings),
    ...(r.gatewayApiExposures ?? []).flatMap((e) => e.warnings),
    ...(r.envoy?.warnings ?? []),
  ];
  return !elsewhere.includes(w);
}

function renderPod(out: string[], p: PodFacts, c: ChalkInstance, currentNs: string, ambient: PodAmbientFacts | undefined): void {
  out.push(`${c.bold('Pod:')} ${name(p.name, p.namespace, currentNs)}`);
  if (p.revision) out.push(`${L1}Pod Revision: ${p.revision}`);
  if (p.ports.length) {
    out.push(`${L1}Pod Ports: ${p.ports.map((x) => `${x.port}${x.protocol !== 'TCP' ? `/${x.protocol}` : ''} (${x.container})`).join(', ')}`);
  } else {
    out.push(`${L1}Pod does not expose ports`);
  }
  if (p.phase && p.phase !== 'Running') out.push(`${L1}Pod is not Running (${p.phase})`);
  if (p.sidecar.injected) {
    // a waypoint's pod runs the proxy as its only container: it is the waypoint, not a sidecar
    const bits = p.waypointOf ? [] : [p.sidecar.native ? 'injected (native sidecar)' : 'injected'];
    if (p.sidecar.ready !== undefined) bits.push(p.sidecar.ready ? c.green('ready') : c.red('NOT READY'));
    if (p.sidecar.version) bits.push(`proxy version ${p.sidecar.version}`);
    if (p.sidecar.discoveryAddress) bits.push(`istiod ${p.sidecar.discoveryAddress}`);
    out.push(p.waypointOf ? `${L1}Proxy: waypoint of ${p.waypointOf}${bits.length ? `, ${bits.join(', ')}` : ''}` : `${L1}Sidecar: ${bits.join(', ')}`);
    if (p.sidecar.connectedTo) {
      const sync = Object.entries(p.sidecar.sync ?? {}).map(([t, st]) => `${t} ${st}`).join(', ');
      out.push(`${L1}Connected to: ${p.sidecar.connectedTo}${sync ? ` (${sync})` : ''}`);
    }
  }
  if (ambient) renderAmbient(out, ambient);
  for (const w of p.warnings) out.push(warn(c, w));
  for (const s of p.suggestions) out.push(`Suggestion: ${s}.`);
  for (const w of ambient?.warnings ?? []) out.push(warn(c, w));
}

function renderAmbient(out: string[], a: PodAmbientFacts): void {
  const e = a.enrollment;
  const state = e.enrolled === true ? 'enrolled' : e.enrolled === false ? 'not enrolled' : 'unknown';
  const redirect = e.redirection === 'enabled' ? ', redirected by istio-cni' : e.redirection ? `, istio-cni redirection ${e.redirection}` : '';
  out.push(`${L1}Ambient: ${state} (${e.reason})${e.enrolled ? redirect : ''}`);
  if (e.enrolled) {
    if (a.ztunnel) out.push(`${L1}ztunnel: ${a.ztunnel}${a.node ? ` on node ${a.node}` : ''}`);
    else if (a.node) out.push(`${L1}ztunnel: ${a.ztunnelsRead ? 'none' : 'not known (no ztunnel pods read)'} on node ${a.node}`);
    const v = a.ztunnelView;
    if (v) out.push(`${L1}ztunnel view: ${v.known ? `protocol ${v.protocol}, waypoint ${v.waypoint}` : 'no workload for the pod'} (from ${v.source})`);
  }
  out.push(`${L1}Waypoint for traffic to the pod: ${bindingText(a.workload)}`);
  for (const s of a.services) {
    out.push(`${L1}Waypoint for traffic to service ${s.service}: ${bindingText(s.binding)}${conditionText(s.condition)}`);
  }
}

/** Istio's own word on a service's waypoint (its WaypointBound condition), after ours. */
function conditionText(c: Condition | undefined): string {
  return c ? ` [Istio: WaypointBound ${c.status ?? '?'}${c.reason ? `, ${c.reason}` : ''}]` : '';
}

/** `shop/waypoint (namespace label)`, `none (istio.io/use-waypoint: none)`, `none: waypoint ... does not exist` */
function bindingText(b: WaypointBinding): string {
  const from = b.source ? `${b.source} label` : '';
  switch (b.state) {
    case 'bound': {
      const programmed = b.facts && b.facts.programmed !== 'True' ? ', not programmed' : '';
      return `${b.waypoint} (${from}${programmed})`;
    }
    case 'opt-out':
      return `none (${from}: ${b.message})`;
    case 'problem':
      return `none: the ${from} names ${namedWaypoint(b)}`;
    case 'unknown':
      return b.waypoint ? `unknown: the ${from} names ${namedWaypoint(b)}` : `unknown (${b.message})`;
    default:
      if (b.waypoint && b.facts) return `none (the ${from} names ${b.waypoint}, whose istio.io/waypoint-for is ${b.facts.trafficType})`;
      return b.message ? `none (${b.message})` : 'none';
  }
}

function renderService(out: string[], s: ServiceReport, c: ChalkInstance, currentNs: string): void {
  out.push(`${c.bold('Service:')} ${name(s.name, s.namespace, currentNs)}`);
  renderPorts(out, s);
  renderServicePolicies(out, s, c, currentNs);
}

function renderPorts(out: string[], s: ServiceReport): void {
  for (const p of s.ports) {
    if (p.error) {
      out.push(`${L1}Port: ${p.name ?? ''} ${p.port}/${p.protocol} ${p.error}`);
      continue;
    }
    const from = p.protocol === 'auto-detect' || p.protocolSource.startsWith('name') ? '' : ` (${p.protocolSource})`;
    out.push(`${L1}Port: ${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}${from} targets pod port ${p.targetPort}`);
  }
  if (s.endpoint === 'ready') out.push(`${L1}Endpoint: pod is a ready endpoint`);
}

function renderServicePolicies(out: string[], s: ServiceReport, c: ChalkInstance, currentNs: string): void {
  const dr = s.destinationRule;
  if (dr) {
    const [first, ...rest] = dr.rules;
    out.push(`${c.bold('DestinationRule:')} ${name(first.name, first.namespace, currentNs)} for "${dr.host}"`);
    if (rest.length) out.push(`${L1}Merged with: ${rest.map((r) => name(r.name, r.namespace, currentNs)).join(', ')}`);
    if (dr.scope !== 'client namespace') out.push(`${L1}Found in: ${dr.scope}`);
    const { matching, nonMatching } = dr.subsets;
    if (matching.length || nonMatching.length) {
      if (matching.length === 0) out.push(`${L1}${c.yellow(`WARNING POD DOES NOT MATCH ANY SUBSETS.  (Non matching subsets ${nonMatching.join(',')})`)}`);
      out.push(`${L1}Matching subsets: ${matching.join(',')}`);
      if (nonMatching.length) out.push(`${L2}(Non-matching subsets ${nonMatching.join(',')})`);
    }
    if (!dr.trafficPolicy) out.push(`${L1}No Traffic Policy`);
    else renderPolicy(out, dr.trafficPolicy, L1);
    for (const sp of dr.subsetPolicies) {
      out.push(`${L1}Subset ${sp.subset} Traffic Policy:`);
      renderPolicy(out, sp.trafficPolicy, L2);
    }
  }
  for (const vs of s.virtualServices) {
    out.push(`${c.bold('VirtualService:')} ${name(vs.name, vs.namespace, currentNs)}`);
    const gw = vs.gateways.filter((g) => g !== 'mesh');
    if (gw.length) out.push(`${L1}Gateways: ${vs.gateways.join(', ')}`);
    for (const line of vs.lines) out.push(`${L1}${line}`);
    for (const w of vs.warnings) out.push(`${L1}${warn(c, w)}`);
  }
  for (const r of s.meshRoutes ?? []) renderMeshRoute(out, r, s, c, currentNs);
  if (s.meshRoutesVia?.length) {
    out.push(c.bold('Mesh routes to it from other parents:'));
    for (const v of s.meshRoutesVia) {
      const [ns, routeName] = v.route.split('/');
      const rules = v.rules.map((r) => `rule ${r.rule} (${r.weight}%)`).join(', ');
      out.push(`${L1}${v.kind} ${name(routeName, ns, currentNs)} on ${v.parent}${v.port !== undefined ? ` port ${v.port}` : ''}: ${rules}`);
    }
  }
  const printedInVs = new Set(s.virtualServices.flatMap((v) => v.warnings.map((w) => `VirtualService ${name(v.name, v.namespace, currentNs)}: ${w}`)));
  for (const w of (s.meshRoutes ?? []).flatMap((r) => r.warnings)) printedInVs.add(w);
  for (const w of s.warnings) {
    if (printedInVs.has(w)) continue;
    if (w.startsWith('POD DOES NOT MATCH ANY SUBSETS')) continue; // printed istioctl-style in the DestinationRule block
    out.push(warn(c, w));
  }
}

/** `HTTPRoute: split (mesh route on service reviews, port 9080)`, its rules as matches -> backends, status, who applies it. */
function renderMeshRoute(out: string[], r: MeshRouteFacts, s: ServiceReport, c: ChalkInstance, currentNs: string): void {
  const [ns, routeName] = r.route.split('/');
  const port = r.parent.port !== undefined ? `port ${r.parent.port}` : 'all ports';
  out.push(`${c.bold(`${r.kind}:`)} ${name(routeName, ns, currentNs)} (mesh route on service ${s.name}, ${port})`);
  r.rules.forEach((rule, i) => {
    const backends = rule.backends.map((b) => `${b.backend}${b.port !== undefined ? `:${b.port}` : ''} with weight ${b.weight}%`);
    const matches = rule.matches.length ? rule.matches.map((m) => `Match: ${m}`).join(', ') : 'everything';
    out.push(`${L1}Rule ${rule.name ?? i + 1} (${matches}) -> ${backends.length ? backends.join(', ') : 'no backends'}`);
  });
  if (r.status.length) out.push(`${L1}Status: ${r.status.join(', ')}`);
  if (r.appliedBy.length) out.push(`${L1}Applied by: ${r.appliedBy.join(', ')}${r.clientsOnlyIn ? ` (clients in namespace ${r.clientsOnlyIn} only: a route outside the service's namespace)` : ''}`);
  for (const w of r.warnings) out.push(`${L1}${warn(c, w)}`);
}

function renderPolicy(out: string[], tp: TrafficPolicySummary, indent: string): void {
  renderPolicyPart(out, tp, indent, 'Traffic Policy TLS Mode');
  if (tp.portLevel.length) {
    out.push(`${indent}Port Level Settings:`);
    for (const p of tp.portLevel) {
      out.push(`${indent} ${p.port}:`);
      renderPolicyPart(out, p, indent + L1, 'TLS Mode');
    }
  }
}

function renderPolicyPart(out: string[], p: PolicySummary, indent: string, tlsLabel: string): void {
  if (p.tlsMode) out.push(`${indent}${tlsLabel}: ${p.tlsMode}`);
  const names: string[] = [];
  if (p.loadBalancer !== undefined) names.push('load balancer');
  if (p.connectionPool !== undefined) names.push('connection pool');
  if (p.outlierDetection !== undefined) names.push('outlier detection');
  if (names.length === 0) return;
  out.push(`${indent}Policies: ${names.join('/')}`);
  if (p.loadBalancer) out.push(`${indent}${L1}Load balancer: ${p.loadBalancer}`);
  if (p.connectionPool) out.push(`${indent}${L1}Connection pool: ${p.connectionPool}`);
  if (p.outlierDetection) out.push(`${indent}${L1}Outlier detection: ${p.outlierDetection}`);
}

function renderMtls(out: string[], m: EffectiveMtls, c: ChalkInstance, pods: string[] | undefined): void {
  const whose = pods === undefined ? '' : pods.length === 0 ? ' (no pods: mesh and namespace policies only)' : ` (pods ${pods.join(', ')})`;
  out.push(`${c.bold('Effective PeerAuthentication:')}${whose}`);
  const by = m.decidedBy === 'default' ? "Istio's default, no policy sets a mode" : `${m.decidedBy} level`;
  out.push(`${L1}Workload mTLS mode: ${m.mode} (${by})`);
  if (m.perPort.length) {
    out.push(`${L1}Port Level mTLS mode:`);
    for (const p of m.perPort) out.push(`${L2}${p.port}: ${p.mode}`);
  }
  if (m.applied.length) {
    out.push('Applied PeerAuthentication:');
    out.push(`${L1}${m.applied.map((a) => `${a.name}.${a.namespace}${a.effective ? '' : ' (ignored: an older one wins)'}`).join(', ')}`);
  }
  for (const w of m.warnings) out.push(warn(c, w));
}

function renderAuthz(out: string[], a: AuthorizationFacts, c: ChalkInstance, pods: string[] | undefined): void {
  const { ALLOW, DENY, CUSTOM, AUDIT } = a.counts;
  out.push(`${c.bold('AuthorizationPolicies:')} ${ALLOW} ALLOW, ${DENY} DENY, ${CUSTOM} CUSTOM, ${AUDIT} AUDIT${pods ? ` (pods ${pods.join(', ')})` : ''}`);
  for (const p of a.policies) {
    const rules = `${p.rules} rule${p.rules === 1 ? '' : 's'}`;
    out.push(`${L1}${p.action} ${p.name}.${p.namespace} (${p.scope}${p.provider ? `, provider ${p.provider}` : ''}, ${rules}${p.chains ? `, on the chain of ${p.chains.join(', ')}` : ''})`);
  }
  if (a.chainDefaults) {
    // a waypoint's chains differ: only a chain holding an ALLOW policy denies what matches none
    out.push(`${L1}Requests matching no ALLOW policy are denied on the chains of ${a.chainDefaults.deny.join(', ')}; allowed on those of ${a.chainDefaults.allow.join(', ')} (no ALLOW policy there)`);
  } else if (a.counts.ALLOW > 0) out.push(`${L1}Requests matching no ALLOW policy are denied`);
  else if (a.policies.length === 0) out.push(`${L1}No policies: all requests are allowed`);
  for (const w of a.warnings) out.push(warn(c, w));
}

function renderExposures(out: string[], exposures: GatewayExposure[], c: ChalkInstance): void {
  for (const e of exposures) {
    out.push(RULE);
    for (const url of e.urls) out.push(`Exposed on Ingress Gateway ${url}`);
    out.push(`${c.bold('Gateway:')} ${e.gateway}${e.gatewayService ? ` (service ${e.gatewayService})` : ''} via VirtualService ${e.virtualService}`);
    for (const w of e.warnings) out.push(warn(c, w));
  }
}

function renderRouteExposures(out: string[], exposures: RouteExposure[], c: ChalkInstance): void {
  for (const e of exposures) {
    out.push(RULE);
    for (const u of e.urls) {
      out.push(`Exposed on Gateway API gateway ${u.gateway} ${u.url}${routeHostname(u)} via ${e.kind} ${e.route}`);
    }
    const parents = e.gateways.map((g) => `${g.gateway}${g.gatewayService ? ` (service ${g.gatewayService})` : ''}${g.ignored ? ' (ignored by istiod)' : ''}`);
    const via = parents.length ? ` via Gateway${parents.length > 1 ? 's' : ''} ${parents.join(', ')}` : '';
    out.push(`${c.bold(`${e.kind}:`)} ${e.route}${via}`);
    for (const w of e.warnings) out.push(warn(c, w));
  }
}

/** The name a client must send: the Host of HTTP, the SNI of TLS; a plain TCP connection has none. */
function routeHostname(u: RouteUrl): string {
  if (u.url.startsWith('tcp://')) return '';
  const what = u.url.startsWith('tls://') ? 'SNI' : 'hostname';
  return u.hostname ? ` (${what} ${u.hostname})` : ` (any ${what})`;
}

function renderEnvoy(out: string[], e: EnvoyFacts, c: ChalkInstance): void {
  out.push(RULE);
  out.push(`${c.bold('Envoy:')}${e.node ? ` ${e.node}` : ''}`);
  const about = [e.version ? `proxy version ${e.version}` : '', e.discoveryAddress ? `istiod ${e.discoveryAddress}` : ''].filter(Boolean);
  if (about.length) out.push(`${L1}${about.join(', ')}`);
  for (const p of e.ports) {
    if (!p.clusterFound) {
      out.push(`${L1}${p.service}:${p.port}: no cluster ${p.cluster}`);
      continue;
    }
    const bits = [`cluster ${p.cluster}`];
    bits.push(p.destinationRule ? `DestinationRule ${p.destinationRule}` : 'no DestinationRule');
    if (p.subsetClusters.length) bits.push(`subsets ${p.subsetClusters.join(',')}`);
    if (p.virtualService) bits.push(`VirtualService ${p.virtualService}`);
    out.push(`${L1}${p.service}:${p.port}: ${bits.join(', ')}`);
  }
  for (const i of e.inbound) {
    const rbac = i.rbacPolicies
      .filter((r) => r.policies.length)
      .map((r) => `${r.action} ${[...new Set(r.policies.map((p) => rbacPolicyName(p) ?? p))].join(', ')}`);
    out.push(`${L1}Inbound ${i.port}: mTLS ${i.mtls}${rbac.length ? `, RBAC ${rbac.join('; ')}` : ''}`);
  }
  for (const w of e.warnings) out.push(warn(c, w));
}

function warn(c: ChalkInstance, w: string): string {
  return c.yellow(`WARNING: ${w}`);
}

function name(n: string, ns: string, currentNs: string): string {
  return ns === currentNs ? n : `${n}.${ns}`;
}
