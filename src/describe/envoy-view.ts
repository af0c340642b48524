import {
  destinationRuleOf,
  filterChainsOf,
  findListener,
  httpConnectionManager,
  listClusters,
  listRouteConfigs,
  networkFilters,
  virtualServiceOf,
  type ConfigDump,
  type Route,
  type VirtualHost,
} from '../envoy/index.js';
import { arr, isObject, num, str } from '../envoy/json.js';
import type { AuthorizationFacts } from './authz.js';
import type { Pod, Service } from './objects.js';
import { namespaceOf, nameOf } from './objects.js';
import { mtlsForPort, type EffectiveMtls } from './mtls.js';
import type { ServiceReport } from './service-report.js';

/**
 * What describe needs from a proxy's config dump. Kept to plain data so it can be built from a saved
 * `config_dump` or a live admin port alike.
 */
export interface EnvoyView {
  /** `sidecar~10.244.0.12~productpage-v1-x.default~default.svc.cluster.local` */
  nodeId?: string;
  podName?: string;
  podNamespace?: string;
  istioVersion?: string;
  discoveryAddress?: string;
  /** Clusters with the DestinationRule (`name.namespace`) Istio built them from. */
  clusters: { name: string; destinationRule?: string }[];
  /** Route configurations by name (`9080`, `http.8080`, ...): each virtual host's domains and routes' VirtualServices. */
  routes: { name: string; virtualHosts: { domains: string[]; virtualServices: string[] }[] }[];
  /** The `virtualInbound` listener's filter chains, summarised. */
  inboundChains: { port?: number; transport?: string; rbac: { action: string; policies: string[] }[] }[];
}

export interface EnvoyPortFacts {
  service: string;
  port: number;
  cluster: string;
  clusterFound: boolean;
  /** The DestinationRule Envoy's cluster says it was built from (`name.namespace`). */
  destinationRule?: string;
  subsetClusters: string[];
  /** The VirtualService Envoy's route for the service says it was built from (`name.namespace`). */
  virtualService?: string;
}

export interface EnvoyInboundFacts {
  port: number;
  /** From the inbound filter chains: TLS only = STRICT, TLS and plaintext = PERMISSIVE, plaintext only = DISABLE. */
  mtls?: string;
  rbacPolicies: { action: string; policies: string[] }[];
}

export interface EnvoyFacts {
  node?: string;
  version?: string;
  discoveryAddress?: string;
  ports: EnvoyPortFacts[];
  inbound: EnvoyInboundFacts[];
  warnings: string[];
}

/**
 * Reads the parts describe uses out of a config dump parsed by the Envoy model: node metadata, clusters
 * with the DestinationRule they came from, route configurations with their VirtualServices, and the
 * `virtualInbound` listener's filter chains (port, transport, RBAC policies).
 */
export function envoyViewFromConfigDump(dump: ConfigDump): EnvoyView {
  const view: EnvoyView = { clusters: [], routes: [], inboundChains: [] };
  const node = dump.bootstrap?.bootstrap.node;
  if (node) {
    view.nodeId = str(node.id);
    const md = isObject(node.metadata) ? node.metadata : {};
    view.istioVersion = str(md.ISTIO_VERSION);
    view.podName = str(md.NAME);
    view.podNamespace = str(md.NAMESPACE);
    if (isObject(md.PROXY_CONFIG)) view.discoveryAddress = str(md.PROXY_CONFIG.discoveryAddress);
  }
  for (const c of listClusters(dump, true)) {
    const entry: EnvoyView['clusters'][number] = { name: c.name };
    const dr = destinationRuleOf(c.cluster);
    if (dr) entry.destinationRule = dr;
    view.clusters.push(entry);
  }
  for (const rc of listRouteConfigs(dump)) {
    view.routes.push({
      name: rc.name,
      virtualHosts: arr<VirtualHost>(rc.routeConfig.virtual_hosts)
        .filter(isObject)
        .map((vh) => ({
          domains: arr(vh.domains).map(String),
          virtualServices: arr<Route>(vh.routes)
            .filter(isObject)
            .map((r) => virtualServiceOf(r))
            .filter((x): x is string => x !== undefined),
        })),
    });
  }
  const inbound = findListener(dump, 'virtualInbound');
  for (const fc of inbound ? filterChainsOf(inbound.listener) : []) {
    const m = fc.filter_chain_match ?? {};
    const chain: EnvoyView['inboundChains'][number] = { rbac: [] };
    const port = num(m.destination_port);
    if (port !== undefined) chain.port = port;
    const transport = str(m.transport_protocol);
    if (transport) chain.transport = transport;
    for (const f of networkFilters(fc)) collectRbac(f.typed_config, chain.rbac);
    for (const hf of httpConnectionManager(fc)?.http_filters ?? []) if (isObject(hf)) collectRbac(hf.typed_config, chain.rbac);
    view.inboundChains.push(chain);
  }
  return view;
}

/** Network or HTTP RBAC filter config → its action and policy names (shadow rules are not enforced). */
function collectRbac(typedConfig: unknown, out: { action: string; policies: string[] }[]): void {
  if (!isObject(typedConfig) || !String(typedConfig['@type'] ?? '').includes('rbac.v3.RBAC')) return;
  if (!isObject(typedConfig.rules)) return;
  const rules = typedConfig.rules;
  const policies = Object.keys(isObject(rules.policies) ? rules.policies : {});
  const action = str(rules.action) ?? 'ALLOW';
  const existing = out.find((r) => r.action === action);
  if (existing) for (const p of policies) existing.policies.includes(p) || existing.policies.push(p);
  else out.push({ action, policies });
}

interface ConfirmInput {
  pod: Pod;
  services: Service[];
  reports: ServiceReport[];
  authorization?: AuthorizationFacts;
  mtls?: EffectiveMtls;
  currentNamespace: string;
  domain: string;
}

/** Checks what the files say against what the proxy holds, and says where they disagree. */
export function confirmWithEnvoy(view: EnvoyView, input: ConfirmInput): EnvoyFacts {
  const warnings: string[] = [];
  const facts: EnvoyFacts = { ports: [], inbound: [], warnings };
  if (view.nodeId) facts.node = view.nodeId;
  if (view.istioVersion) facts.version = view.istioVersion;
  if (view.discoveryAddress) facts.discoveryAddress = view.discoveryAddress;
  const podName = nameOf(input.pod);
  const podNs = namespaceOf(input.pod);
  if (view.podName && (view.podName !== podName || (view.podNamespace && view.podNamespace !== podNs))) {
    warnings.push(`the config dump is from pod ${view.podName}.${view.podNamespace ?? '?'}, not ${podName}.${podNs}: its facts may not apply`);
  }

  for (const report of input.reports) {
    const drExpected = report.destinationRule ? `${report.destinationRule.rules[0].name}.${report.destinationRule.rules[0].namespace}` : undefined;
    const vsExpected = report.virtualServices.filter((v) => v.gateways.includes('mesh')).map((v) => `${v.name}.${v.namespace}`);
    for (const p of report.ports) {
      if (p.transport !== 'TCP') continue;
      const cluster = `outbound|${p.port}||${report.host}`;
      const found = view.clusters.find((c) => c.name === cluster);
      const pf: EnvoyPortFacts = { service: report.name, port: p.port, cluster, clusterFound: Boolean(found), subsetClusters: [] };
      const prefix = `outbound|${p.port}|`;
      const suffix = `|${report.host}`;
      pf.subsetClusters = view.clusters
        .filter((c) => c.name.startsWith(prefix) && c.name.endsWith(suffix) && c.name !== cluster)
        .map((c) => c.name.slice(prefix.length, c.name.length - suffix.length));
      const label = `${report.name}:${p.port}`;
      if (!found) {
        warnings.push(`Envoy has no cluster ${cluster}: the proxy is stale, or a Sidecar resource hides the service from it`);
      } else {
        const dr = found.destinationRule;
        if (dr) pf.destinationRule = dr;
        if (dr !== drExpected) {
          warnings.push(
            `for ${label} Envoy applies ${dr ? `DestinationRule ${dr}` : 'no DestinationRule'} but the configuration gives ${drExpected ? `DestinationRule ${drExpected}` : 'none'} (stale proxy, or the files differ from the cluster)`,
          );
        }
        for (const s of report.destinationRule?.subsets.matching.concat(report.destinationRule.subsets.nonMatching) ?? []) {
          if (!pf.subsetClusters.includes(s)) warnings.push(`Envoy has no cluster for subset ${s} of ${label}: requests routed to it fail with 503 (NR/UH)`);
        }
      }
      const vs = routeVirtualService(view, p.port, report.host);
      if (vs) pf.virtualService = vs;
      if (p.protocol !== 'TCP' && vs && !vsExpected.includes(vs)) {
        warnings.push(`for ${label} Envoy routes by VirtualService ${vs}, which the configuration does not show routing to the service`);
      }
      facts.ports.push(pf);
    }
  }

  const targetPorts = new Set<number>();
  for (const r of input.reports) for (const p of r.ports) if (p.targetPort !== undefined) targetPorts.add(p.targetPort);
  for (const port of [...targetPorts].sort((a, b) => a - b)) {
    let chains = view.inboundChains.filter((c) => c.port === port);
    if (chains.length === 0) chains = view.inboundChains.filter((c) => c.port === undefined);
    if (chains.length === 0) continue;
    const transports = new Set(chains.map((c) => c.transport ?? 'raw_buffer'));
    const f: EnvoyInboundFacts = { port, rbacPolicies: [] };
    if (transports.has('tls') && transports.has('raw_buffer')) f.mtls = 'PERMISSIVE';
    else if (transports.has('tls')) f.mtls = 'STRICT';
    else f.mtls = 'DISABLE';
    for (const c of chains) {
      for (const r of c.rbac) {
        const e = f.rbacPolicies.find((x) => x.action === r.action);
        if (e) for (const p of r.policies) e.policies.includes(p) || e.policies.push(p);
        else f.rbacPolicies.push({ action: r.action, policies: [...r.policies] });
      }
    }
    facts.inbound.push(f);
    const expected = input.mtls ? mtlsForPort(input.mtls, port) : undefined;
    if (expected && f.mtls !== expected) {
      warnings.push(`inbound port ${port}: Envoy accepts ${f.mtls === 'STRICT' ? 'mTLS only' : f.mtls === 'PERMISSIVE' ? 'mTLS and plaintext' : 'plaintext only'} (${f.mtls}) but the PeerAuthentications give ${expected}`);
    }
    if (input.authorization) {
      const envoyPolicies = new Set(f.rbacPolicies.flatMap((r) => r.policies.map(rbacPolicyName)).filter((x): x is string => x !== undefined));
      const filePolicies = new Set(input.authorization.policies.map((ap) => `${ap.name}.${ap.namespace}`));
      for (const ap of input.authorization.policies) {
        const name = `${ap.name}.${ap.namespace}`;
        // an ALLOW policy with no rules becomes an empty RBAC filter: there is no policy name to find
        if (['ALLOW', 'DENY', 'AUDIT'].includes(ap.action) && ap.rules > 0 && !envoyPolicies.has(name)) {
          warnings.push(`inbound port ${port}: AuthorizationPolicy ${name} applies to the pod but Envoy's RBAC filters do not contain it (stale proxy?)`);
        }
      }
      for (const name of envoyPolicies) {
        if (!filePolicies.has(name)) warnings.push(`inbound port ${port}: Envoy enforces AuthorizationPolicy ${name}, which the configuration does not apply to this pod`);
      }
    }
  }
  return facts;
}

/** Istio names RBAC policies `ns[default]-policy[name]-rule[0]`; → `name.default`. */
export function rbacPolicyName(policy: string): string | undefined {
  const m = /^ns\[([^\]]+)\]-policy\[([^\]]+)\]/.exec(policy);
  return m ? `${m[2]}.${m[1]}` : undefined;
}

/** The VirtualService named in the metadata of the route Envoy uses for host:port (sidecar route config `port`). */
function routeVirtualService(view: EnvoyView, port: number, host: string): string | undefined {
  for (const rc of view.routes) {
    if (rc.name !== String(port) && !rc.name.endsWith(`.${port}`)) continue;
    for (const vh of rc.virtualHosts) {
      if (!vh.domains.some((d) => d === host || d === `${host}:${port}`)) continue;
      if (vh.virtualServices.length) return vh.virtualServices[0];
    }
  }
  return undefined;
}
