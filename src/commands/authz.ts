import type { KubeOptions } from '../kube/options.js';
import { checkPolicies, checkRows, rbacConfigs, type CheckPolicy } from '../authz/check.js';
import { buildFilters, type AuthorizationPolicyDoc } from '../authz/istio-policy.js';
import { gatewayNameOf, leftOutAttachments, selectPolicies } from '../authz/select.js';
import { isIP } from 'node:net';
import { MeshctlError, UsageError } from '../errors.js';
import { parseConfigDump, listListeners } from '../envoy/index.js';
import type { Json } from '../match/string.js';
import { colours } from '../output/colour.js';
import { renderData, type DataFormat } from '../output/format.js';
import { renderTable } from '../output/table.js';
import { writeStdout } from '../output/write.js';
import { fileAdminSource, type EnvoyAdminSource } from '../source/envoy-admin.js';
import { parseDocument } from '../source/parse.js';
import { authorizeConnection, authorizeRequest, type AuthzConnection, type AuthzStep } from '../trace/authz.js';
import type { AuthzVerdict } from '../authz/decide.js';
import { portStart } from '../trace/request.js';
import { chainPolicies, chainsAlike, servedAddressing, serviceLabel, shadowedNote } from '../authz/chains.js';
import { pickWaypointChain } from './authz-waypoint.js';
import type { HttpRequest } from '../trace/request.js';
import { parseHeader } from './trace.js';
import { sourceIdentity, type IdentityFlags } from './identity.js';
import { namespaceOf, nameOf, type ConfigMap, type KubeObject, type MeshObjects, type Pod } from '../describe/objects.js';
import { addWaypointServing, waypointServicesOf } from '../describe/report.js';
import { unknownAttachments } from '../describe/authz.js';

export interface AuthzCheckOptions extends Partial<KubeOptions> {
  pod?: string;
  file?: string;
  files?: string[];
  /** A bug-report bundle read as the cluster: the pod's dump, or (with --files/--use-kube) its resources. */
  bundle?: string;
  /** The pod, AuthorizationPolicies and mesh config from the cluster (or the bundle), under --files' manifests. */
  useKube?: boolean;
  ztunnel?: boolean;
  output: 'short' | DataFormat;
  proxyAdminPort?: number;
  identity?: IdentityFlags;
  /** The request for a verdict (--files): */
  method?: string;
  path?: string;
  port?: number;
  host?: string;
  header?: string[];
  src?: string;
  sni?: string;
  plaintext?: boolean;
  tcp?: boolean;
}

/** `meshctl authz check`: the policies a proxy enforces (dump or pod), or, with --files, those the YAML gives it and a verdict. */
export async function authzCheckCommand(o: AuthzCheckOptions): Promise<void> {
  if (o.ztunnel && (o.files?.length || o.useKube)) throw new UsageError('--ztunnel reads a ztunnel (a pod, or -f with its dump), not --files manifests or --use-kube');
  if (o.bundle !== undefined && o.file) throw new UsageError('give either --bundle (with a pod) or -f FILE, not both');
  if (o.files?.length || o.useKube) return checkFiles(o);
  let source: EnvoyAdminSource;
  if (o.ztunnel && !o.file) {
    // ztunnel's L4 policies, live: the ztunnel serving the pod (src/commands/authz-ztunnel.ts)
    const z = await import('./authz-ztunnel.js');
    const { source: zs, workload } = await z.openZtunnelForCheck(o);
    let input;
    try {
      input = await zs.get('/config_dump');
    } finally {
      await zs.close();
    }
    const { parseZtunnelDump, ZtunnelModel } = await import('../ztunnel/index.js');
    return z.authzCheckZtunnel(o, zs, new ZtunnelModel(parseZtunnelDump(parseDocument(input), input.name)), workload);
  }
  if (o.file) source = fileAdminSource(o.file);
  else if (o.pod) {
    const { openAdminSource } = await import('../kube/admin-source.js');
    source = await openAdminSource(o.pod, { ...(o as KubeOptions), proxyAdminPort: o.proxyAdminPort });
  } else throw new UsageError('give a pod, -f with a saved config dump, or a pod with --files manifests/');
  let text;
  try {
    text = await source.get('/config_dump');
  } finally {
    await source.close();
  }
  const doc = parseDocument(text);
  if (o.file) {
    const { looksLikeZtunnelDump, parseZtunnelDump, ZtunnelModel } = await import('../ztunnel/index.js');
    if (looksLikeZtunnelDump(doc)) {
      const { authzCheckZtunnel } = await import('./authz-ztunnel.js');
      return authzCheckZtunnel(o, source, new ZtunnelModel(parseZtunnelDump(doc, source.name)), o.pod);
    }
    if (o.ztunnel) throw new UsageError(`${source.name}: --ztunnel needs a ztunnel's /config_dump, and this is not one`);
    if (o.pod !== undefined) throw new UsageError('with -f give no pod (it comes from the file); a pod names the workload only in a ztunnel dump');
  }
  const dump = parseConfigDump(doc, source.name);
  for (const p of dump.problems) process.stderr.write(`Warning: ${source.name}: skipped ${p.what}: ${p.reason}\n`);
  const listeners = listListeners(dump).map((l) => l.listener as Json);
  const policies = checkPolicies(rbacConfigs(listeners));
  emit(o.output, policies, null);
}

function emit(format: AuthzCheckOptions['output'], policies: CheckPolicy[], verdict: { request: Record<string, unknown>; steps: AuthzStep[]; authz: unknown; chain?: unknown; chains?: unknown } | null, notes: string[] = []): void {
  if (format !== 'short') {
    const data = { policies, ...(verdict ? { request: verdict.request, steps: verdict.steps, authz: verdict.authz, ...(verdict.chain ? { chain: verdict.chain } : {}), ...(verdict.chains ? { chains: verdict.chains } : {}) } : {}), ...(notes.length ? { notes } : {}) };
    writeStdout(renderData(JSON.parse(JSON.stringify(data)), format));
    return;
  }
  const rows = checkRows(policies).map((r) => [r.action, r.name, String(r.rules)]);
  let out = renderTable(['ACTION', 'AuthorizationPolicy', 'RULES'], rows, { padding: 3 });
  const dry = policies.filter((p) => p.mode !== 'enforced');
  for (const p of dry) out += `(${p.mode}) ${p.action} ${p.name} ${p.rules}\n`;
  for (const n of notes) out += `note: ${n}\n`;
  if (verdict) out += '\n' + renderVerdict(verdict as Parameters<typeof renderVerdict>[0]);
  writeStdout(out);
}

/** A waypoint decided on each of its service chains: each one at the port and host it was checked with. */
interface CheckedChain {
  service: string;
  kind: string;
  hostname?: string;
  host: string;
  port: number;
}

export function renderVerdict(v: { request: Record<string, unknown>; steps: AuthzStep[]; authz: Json; chains?: CheckedChain[] }): string {
  const c = colours();
  const lines: string[] = [];
  const r = v.request;
  const each = (x: CheckedChain) => `${x.kind} ${x.service}${x.hostname ? ` (host ${x.hostname})` : ''} at ${r.tcp ? `port ${x.port}` : `${x.host}:${x.port}`}`;
  const to = v.chains
    ? `each of the waypoint's ${v.chains.length} service chains at ${r.port === null ? "its service's port" : `port ${r.port}`} (${v.chains.map(each).join('; ')})`
    : r.port === null
      ? 'any service port (no policy looks at ports)'
      : `port ${r.port}`;
  lines.push(c.bold(`Request: ${r.tcp ? 'TCP connection' : `${r.method} ${r.path}`} to ${to}${r.host && !r.tcp ? ` (host ${r.host})` : ''} from ${r.principal ?? 'an unknown principal'}${r.over ? ` over ${r.over}` : r.mtls ? ' over mTLS' : ' over plaintext'}`));
  for (const s of v.steps) {
    lines.push(`${c.bold(s.chosen ?? '')}: ${s.summary}`);
    for (const m of s.matched) lines.push(`  ${c.green('✓')} ${m}`);
    for (const l of s.losers) lines.push(`  ${c.red('✗')} ${l.name}: ${l.reason}`);
    for (const n of s.notes) lines.push(`  ${c.cyan('•')} ${n}`);
    for (const u of s.uncertain) lines.push(`  ${c.yellow('?')} ${u}`);
  }
  const a = v.authz;
  const colour = a.decision === 'ALLOW' ? c.green : a.decision === 'DENY' ? c.red : c.yellow;
  lines.push(`${c.bold('Decision:')} ${colour(a.decision)}${a.authorizationPolicy ? ` by ${a.authorizationPolicy}` : ''}${a.filter ? ` (${a.filter})` : ''}: ${a.reason}`);
  return lines.join('\n') + '\n';
}

async function checkFiles(o: AuthzCheckOptions): Promise<void> {
  const flag = o.files?.length ? '--files' : '--use-kube';
  if (!o.pod) throw new UsageError(`${flag} needs the pod whose policies to evaluate`);
  if (o.file) throw new UsageError(`give -f (a config dump) or ${flag} (resources), not both`);
  const [{ loadMeshObjects }, { meshSettingsFrom }, { findObject }, { emptyMeshObjects }] = await Promise.all([
    import('../describe/load.js'),
    import('../describe/mesh.js'),
    import('./describe.js'),
    import('../describe/objects.js'),
  ]);
  const objects = o.files?.length ? await loadMeshObjects(o.files) : emptyMeshObjects();
  let pod: Pod;
  const servingProblems: string[] = [];
  // --bundle is a cluster: with --files it is what the manifests are evaluated over (as analyze does)
  // the request's host: a Host or :authority header over --host; its port, and the name or address before it
  const headers: [string, string][] = [];
  let givenHost = o.host;
  for (const h of (o.header ?? []).map(parseHeader)) {
    const k = h[0].toLowerCase();
    if (k === 'host' || k === ':authority') givenHost = h[1];
    else headers.push([k, h[1]]);
  }
  const hostPortAt = givenHost === undefined ? -1 : portStart(givenHost);
  const hostPort = hostPortAt === -1 ? undefined : Number(givenHost!.slice(hostPortAt + 1));
  const bareHost = givenHost === undefined ? undefined : (hostPortAt === -1 ? givenHost : givenHost.slice(0, hostPortAt)).replace(/^\[(.*)\]$/, '$1');
  let podsAtIp: Pod[] = [];
  let podsProblem: string | undefined;
  if (o.useKube || o.bundle !== undefined) {
    const { clusterAuthzObjects } = await import('../authz/cluster.js');
    // a waypoint's direct-access chain is picked by a pod's IP: the pods of the host's IP are read with the rest
    const ip = bareHost !== undefined && isIP(bareHost) ? bareHost : undefined;
    const cluster = await clusterAuthzObjects(o.pod, { istioNamespace: 'istio-system', timeout: '30s', ...o, ...(ip ? { podIp: ip } : {}) });
    if (cluster.podsAtIp && 'problem' in cluster.podsAtIp) podsProblem = cluster.podsAtIp.problem;
    else if (cluster.podsAtIp) podsAtIp = cluster.podsAtIp as Pod[];
    const inFiles = objects.pods.find((p) => nameOf(p) === cluster.pod.metadata?.name && namespaceOf(p) === cluster.pod.metadata?.namespace);
    pod = inFiles ?? (cluster.pod as Pod);
    // a manifest replaces the cluster's object of the same namespace and name: "what if I apply this"
    const key = (x: KubeObject) => `${namespaceOf(x)}/${nameOf(x)}`;
    const given = new Set(objects.authorizationPolicies.map(key));
    objects.authorizationPolicies.unshift(...(cluster.authorizationPolicies as MeshObjects['authorizationPolicies']).filter((x) => !given.has(key(x))));
    const cms = new Set(objects.configMaps.map(key));
    objects.configMaps.push(...(cluster.configMaps as ConfigMap[]).filter((x) => !cms.has(key(x))));
    // a waypoint: what tells which services it serves, as --files reads it from manifests
    if (cluster.waypoint) {
      const w = cluster.waypoint;
      addWaypointServing(objects, w);
      servingProblems.push(...w.problems);
    }
  } else pod = findObject(objects.pods, o.pod, o.namespace, 'pod', o.files!);
  const mesh = meshSettingsFrom(objects.configMaps, o.istioNamespace ?? 'istio-system', o.revision);
  const ns = pod.metadata?.namespace ?? 'default';
  const labels = pod.metadata?.labels ?? {};
  const served = waypointServicesOf(objects, ns, labels);
  const all = objects.authorizationPolicies as unknown as AuthorizationPolicyDoc[];
  const workload = { namespace: ns, labels, rootNamespace: mesh.settings.rootNamespace };
  const selected = selectPolicies(all, { ...workload, ...(served ? { services: served.services } : {}) }).map((s) => s.policy);
  // which services a waypoint serves not fully known: the policies attached to others may apply too
  const unknownServing = served ? [...servingProblems.map((reason) => ({ reason })), ...served.unknown.map((u) => ({ service: u, reason: u.reason }))] : [];
  const leftOut = leftOutAttachments(all, selected, unknownServing);
  const waypoint = labels['gateway.istio.io/managed'] === 'istio.io-mesh-controller';
  // in istiod's order (creation time, then name, then namespace), whatever order the files or the API gave
  const created = (p: AuthorizationPolicyDoc) => String((p.metadata as { creationTimestamp?: unknown } | undefined)?.creationTimestamp ?? '');
  const byAge = (a: AuthorizationPolicyDoc, b: AuthorizationPolicyDoc) =>
    cmp(created(a), created(b)) || cmp(a.metadata?.name ?? '', b.metadata?.name ?? '') || cmp(a.metadata?.namespace ?? '', b.metadata?.namespace ?? '');
  const identity = await sourceIdentity(o.identity ?? {}, o, o.src);
  if (hostPort !== undefined) assertPort(hostPort);
  const notes: string[] = (served?.shadowed ?? []).map(shadowedNote);
  // A waypoint has one chain per service it serves, each with its own Service/ServiceEntry-attached
  // policies (src/authz/chains.ts): the request's host picks the chain.
  const { pick, direct } = served && givenHost !== undefined && bareHost !== undefined
    ? pickWaypointChain(givenHost, bareHost, { objects, served, gateway: `${ns}/${gatewayNameOf(labels)}`, principal: identity.principal, port: o.port ?? hostPort, podsAtIp, podsProblem })
    : { pick: undefined, direct: undefined };
  // no host given, and the waypoint serves one service: the request is for that one (its name and ports)
  const sole = !pick && served?.services.length === 1 ? served.services[0] : undefined;
  const addressing = sole ? servedAddressing(objects.services, objects.serviceEntries)(sole) : undefined;
  // on a waypoint the destination port is that of what the request is for: a Host header's, else the
  // chosen service's own (its first), or the pod's on the direct-access chain
  const target: { ports: number[]; udp?: number[]; what: string } | undefined = pick?.service
    ? { ports: pick.ports, udp: pick.udp, what: `${serviceLabel(pick.service)}'s ports` }
    : sole && addressing
      ? { ports: addressing.ports, udp: addressing.udp, what: `${serviceLabel(sole)}'s ports` }
      : direct ? { ports: direct.ports, what: `pod ${namespaceOf(direct.pod)}/${nameOf(direct.pod)}'s container ports` } : undefined;
  let servicePort: number | undefined;
  if (served && o.port === undefined && hostPort === undefined && target && target.ports.length) {
    servicePort = target.ports[0];
    // istiod builds no waypoint chain for a UDP port (listener_waypoint.go): those are not candidates
    const udp = target.udp?.length ? `; UDP ${target.udp.join(', ')} has no chain` : '';
    if (target.ports.length > 1 || udp) notes.push(`port ${servicePort}: the first of ${target.what} (${target.ports.join(', ')}${udp}); pass --port for another`);
  }
  const port = o.port ?? (served ? (hostPort ?? servicePort) : undefined) ?? Number(pod.spec?.containers?.flatMap((c) => c.ports ?? []).find((p) => p.containerPort !== undefined)?.containerPort ?? 80);
  const podIp = pod.status?.podIP ?? '10.244.0.100';
  const mtls = !o.plaintext;
  const src = o.src ?? identity.ip;
  const conn: AuthzConnection = { srcIp: src ?? '10.244.0.200', srcKnown: src !== undefined, dstIp: podIp, dstPort: port, sni: o.sni ?? '', tlsTerminated: mtls, clientCertRequired: mtls };
  // no host given: a waypoint serving one service is addressed by that service's name
  const host = givenHost ?? `${addressing?.host ?? pod.metadata?.name ?? 'pod'}:${port}`;
  const path = o.path ?? '/';
  if (!path.startsWith('/')) throw new UsageError(`--path must start with /: ${path}`);
  const method = (o.method ?? 'GET').toUpperCase();

  /** The RBAC filters Istio builds from `chosen`, and their verdict for the request. */
  const evaluate = (chosen: AuthorizationPolicyDoc[], dstPort = port, authority = host) => {
    const built = buildFilters([...chosen].sort(byAge), { useFilterState: waypoint });
    const at = dstPort === port ? conn : { ...conn, dstPort };
    const listener = { name: 'from --files', filter_chains: [{ name: 'http', filters: [{ name: 'hcm', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', http_filters: built.http } }] }, { name: 'tcp', filters: built.network }] };
    let res;
    if (o.tcp) res = authorizeConnection(built.network, at, identity);
    else {
      const req: HttpRequest = { authority, path, method, scheme: mtls ? 'https' : 'http', headers, internal: true };
      // jwt_authn as a RequestAuthentication would configure it (the manifests' issuers are not checked here).
      const jwt = identity.claims ? [{ name: 'envoy.filters.http.jwt_authn', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication', providers: {} } }] : [];
      res = authorizeRequest({ http_filters: [...jwt, ...built.http] }, req, null, null, at, identity);
    }
    const authz: AuthzVerdict = res?.verdict ?? { decision: 'ALLOW', policy: null, authorizationPolicy: null, filter: null, reason: 'no AuthorizationPolicy applies to this workload: every request is allowed' };
    return { policies: checkPolicies(rbacConfigs([listener])), skipped: built.skipped, steps: res?.steps ?? [], authz };
  };
  const skippedNotes = (skipped: string[]) => skipped.map((s) => `skipped (as Istio does): ${s}`);
  const undecided = (reason: string): AuthzVerdict => ({ decision: 'UNDECIDED', policy: null, authorizationPolicy: null, filter: null, reason });

  const services = served?.services ?? [];
  // alike chains still differ by port when a policy looks at ports and none was given
  const portsMatter = o.port === undefined && hostPort === undefined && selected.some((p) => /"(not)?[pP]orts"/.test(JSON.stringify(p.spec?.rules ?? [])));
  const alike = !served || (chainsAlike(all, workload, selected) && !portsMatter);
  let result: ReturnType<typeof evaluate>;
  let chain: Record<string, unknown> | undefined;
  let chains: Record<string, unknown>[] | undefined;
  // the policies on every chain (a waypoint's Gateway- and GatewayClass-attached ones): a DENY by one of
  // them denies on the chains in doubt too, one attached to a service only on that service's chain
  let everywhere = new Set(served ? chainPolicies(all, workload, null) : selected);
  if (direct) {
    const on = chainPolicies(all, workload, null);
    result = evaluate(on);
    everywhere = new Set(on);
    chain = { pod: `${namespaceOf(direct.pod)}/${nameOf(direct.pod)}`, kind: 'Pod', host: direct.ip };
    notes.push(...skippedNotes(result.skipped), `evaluated the waypoint's direct-access chain (${direct.how}): only its Gateway- and GatewayClass-attached policies; those attached to Services and ServiceEntries are not on it`);
  } else if (pick) {
    if (pick.service) {
      const on = chainPolicies(all, workload, pick.service);
      result = evaluate(on);
      everywhere = new Set(on);
      // `hostname`: the ServiceEntry host whose chain it is, for a ServiceEntry with a chain per host
      chain = { service: `${pick.service.namespace}/${pick.service.name}`, kind: pick.service.kind ?? 'Service', host: pick.host, ...(pick.service.host ? { hostname: pick.service.host } : {}) };
      notes.push(...skippedNotes(result.skipped), `evaluated the waypoint's chain for ${serviceLabel(pick.service)} (${pick.how}): its Gateway- and GatewayClass-attached policies and those attached to that service`);
    } else {
      // the request would not go through a chain of this waypoint that is known: no verdict is a guess
      result = evaluate(selected);
      result.steps = [];
      result.authz = undecided(pick.reason);
      notes.push(...skippedNotes(result.skipped));
    }
  } else if (alike || services.length <= 1) {
    result = evaluate(selected);
    notes.push(...skippedNotes(result.skipped));
    if (services.length === 1) chain = { service: `${services[0].namespace}/${services[0].name}`, kind: services[0].kind ?? 'Service', ...(services[0].host ? { hostname: services[0].host } : {}) };
  } else {
    // no host: decide on each service's chain; one answer only when they all give it
    result = evaluate(selected);
    notes.push(...skippedNotes(result.skipped));
    // each chain with its service's port (its first), unless one was given, addressed by its service's name;
    // a port given is only on the chains of services that have it (istiod builds a chain per service port)
    const given = o.port ?? hostPort;
    const addressingOf = servedAddressing(objects.services, objects.serviceEntries);
    const addressed = services.map((svc) => ({ svc, addressing: addressingOf(svc) }));
    const onPort = given === undefined ? addressed : addressed.filter((x) => x.addressing.ports.includes(given));
    const offPort = addressed.filter((x) => !onPort.includes(x)).map((x) => serviceLabel(x.svc));
    if (offPort.length && onPort.length) notes.push(`no --host: port ${given} is not a port of ${offPort.join(', ')}, so no chain of ${offPort.length === 1 ? 'it' : 'theirs'} takes the request`);
    const per = onPort.map(({ svc, addressing }) => {
      const at = given ?? addressing.ports[0] ?? port;
      const name = addressing.host ?? host;
      return { svc, port: at, host: name, r: evaluate(chainPolicies(all, workload, svc), at, `${name}:${at}`) };
    });
    chains = per.map(({ svc, port: at, host: name, r }) => ({ service: `${svc.namespace}/${svc.name}`, kind: svc.kind ?? 'Service', ...(svc.host ? { hostname: svc.host } : {}), host: name, port: at, decision: r.authz.decision, authorizationPolicy: r.authz.authorizationPolicy, reason: r.authz.reason }));
    const said = (x: (typeof per)[number]) => `${serviceLabel(x.svc)}${portsMatter ? ` port ${x.port}` : ''}: ${x.r.authz.decision}${x.r.authz.authorizationPolicy ? ` by ${x.r.authz.authorizationPolicy}` : ''}`;
    const decisions = new Set(per.map((x) => x.r.authz.decision));
    if (per.length === 0) {
      result = { ...result, steps: [], authz: undecided(`no service of this waypoint has port ${given} (${offPort.join(', ')}): istiod builds a chain per service port, so the request reaches no chain`) };
    } else if (decisions.size === 1) {
      result = { ...per[0].r, policies: result.policies };
      notes.push(`no --host: decided on each of the waypoint's ${per.length} service chains, which all give ${per[0].r.authz.decision} (${per.map(said).join('; ')}); the steps are ${serviceLabel(per[0].svc)}'s`);
    } else {
      result = { ...result, steps: [], authz: undecided(`the waypoint's service chains decide differently (${per.map(said).join('; ')}): pass --host to say which service the request is for`) };
    }
  }
  let authz = result.authz;
  const leftOutHere = chain?.host !== undefined ? [] : leftOut.policies;
  if (leftOutHere.length) {
    const why = unknownAttachments(leftOutHere, leftOut.reasons);
    notes.push(why);
    // a DENY policy that matched on every chain denies whatever else applies; any other verdict could change
    const deciding = all.find((p) => `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name ?? ''}` === authz.authorizationPolicy);
    if (!(authz.decision === 'DENY' && authz.policy !== null && deciding !== undefined && everywhere.has(deciding))) authz = { ...authz, decision: 'UNDECIDED', reason: `${authz.reason}; but ${why}` };
  }
  // a waypoint's chains decided alike without a port: no one port was checked (and none mattered)
  const anyPort = served !== undefined && !pick && services.length > 1 && !chains && o.port === undefined && hostPort === undefined;
  // decided on each chain: each at its own port and host (chains[]), not one the request line could name
  const perChain = chains !== undefined && o.port === undefined;
  const request = { tcp: o.tcp === true, method, path, port: anyPort || perChain ? null : port, host: anyPort || chains ? null : host, headers: Object.fromEntries(headers), principal: identity.principal ?? null, mtls, src: src ?? null };
  emit(o.output, result.policies, { request, steps: result.steps, authz, ...(chain ? { chain } : {}), ...(chains ? { chains } : {}) }, notes);
}

export function assertPort(value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > 65535)) throw new MeshctlError(`bad port ${value}`);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
