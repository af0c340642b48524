import { searchNames } from '../resources/hosts.js';
import { isIP } from 'node:net';
import { ambientEnrollment, namedWaypoint, waypointFor, ztunnelPolicyWarnings, type AmbientWorld, type Obj, type WaypointBinding } from '../ambient/index.js';
import type { SourceIdentity } from '../authz/context.js';
import type { AuthzVerdict } from '../authz/decide.js';
import type { ConfigDump } from '../envoy/index.js';
import {
  DEFAULT_HBONE_PORT,
  joinHostPort,
  serviceVips,
  splitNetworkAddress,
  vipAddress,
  addressFor,
  localNode,
  serviceUpstreams,
  type Upstream,
  workloadIdentity,
  workloadIps,
  workloadProtocol,
  workloadStatus,
  type CertsDump,
  type ResolvedGateway,
  type ZtunnelModel,
  type ZtunnelService,
  type ZtunnelWorkload,
} from '../ztunnel/index.js';
import { TraceInputError, emptyResult, parseTarget, stepRecorder, traceRequest, type TraceOutput, type TraceResultData, type TraceStep } from './trace.js';
import type { EndpointInfo, TraceWorld } from './world.js';
import { originateFacts, waypointUpstream } from './hbone-originate.js';
import { terminateHbone } from './hbone-terminate.js';
import { ztunnelAuthz } from './ztunnel-authz.js';

/**
 * The ambient trace: a request from a pod in the ambient mesh, followed the way ztunnel and the waypoints
 * handle it (istio/ztunnel src/proxy/outbound.rs build_request, inbound.rs, state.rs; Istio's waypoint
 * listeners, see fixtures/ztunnel/waypoint.mjs):
 *
 *   source       the client pod as its node's ztunnel knows it: captured (HBONE) or not, identity, certificate
 *   destination  the target host → an address (a service VIP, from the ztunnel's services)
 *   ztunnel      the client ztunnel's choice: a workload address or a service VIP; the service's waypoint if it
 *                has one; else an endpoint of the service (load balancing: health, routing preferences), and
 *                for traffic addressed to a workload, that workload's waypoint; else passthrough
 *   hbone        mTLS + HTTP/2 CONNECT to IP:15008 with the :authority the next hop needs
 *   (waypoint)   the CONNECT through connect_terminate to the internal listener its cluster names
 *                (./hbone-terminate.ts), then main_internal, both through the waypoint's config dump with the
 *                listener/route/cluster engine and its RBAC filters (src/trace/trace.ts with `entry`), then the
 *                endpoint of its cluster and connect_originate: HBONE again to the pod
 *   authz        the destination node's ztunnel: its L4 policies for the peer it sees (the client, or the waypoint)
 *   delivery     the connection handed to the pod
 *
 * With the Kubernetes objects (sources.resources: --files, or read live), the source and ztunnel steps also say
 * why, by src/ambient's rules (enrolment, waypoint bindings), and where those disagree with ztunnel's view;
 * ztunnel's upstream choice lives in src/ztunnel/upstream.ts, its L4 policy decision in src/ztunnel/rbac.ts.
 *
 * What cannot be known offline (which of several endpoints a random pick takes, a waypoint's dump that was
 * not given, the destination ztunnel's own state) is said under `uncertain`, never guessed; where the trace
 * has to follow one of several candidates it says which and why.
 */

export interface ZtunnelView {
  model: ZtunnelModel;
  /** A file name, or `pod.namespace` of a live ztunnel. */
  name: string;
  /** Why it may not be the ztunnel asked for (a dump that does not name its node). */
  uncertain?: string;
}

export interface WaypointView {
  dump: ConfigDump;
  world: TraceWorld;
  name: string;
  /** From the dump's bootstrap node metadata. */
  pod?: string;
  namespace?: string;
  gateway?: string;
  ips: string[];
  serviceAccount?: string;
}

/** Where the trace reads what it needs beyond the client's ztunnel (files offline, the cluster live). */
export interface AmbientSources {
  client: ZtunnelView;
  /** The ztunnel of this node; undefined when none was given (offline) or it could not be read (the reason). */
  ztunnelOn(node: string): Promise<ZtunnelView | { missing: string }>;
  /**
   * The Kubernetes objects (Namespaces, Services, Pods, Gateways, AuthorizationPolicies: --files, or read live)
   * that say why a waypoint is bound or not (src/ambient); without them the trace shows ztunnel's view alone.
   */
  resources?(namespace: string): Promise<AmbientWorld | undefined>;
  /** The mesh's root namespace (mesh-wide policies), for the L7-policy warnings. */
  rootNamespace?: string;
  /** The Envoy of this waypoint instance (a workload of the ztunnel's view), or why not. */
  waypoint(instance: ZtunnelWorkload, gateway: { name: string; namespace: string }): Promise<{ view: WaypointView; note?: string } | { missing: string }>;
}

export interface AmbientRequest {
  target: string;
  method?: string;
  headers?: [string, string][];
  /** The client: a pod of the ztunnel's view (name and namespace), or its address. */
  source: { name?: string; namespace?: string; ip?: string };
  dstIp?: string;
  random?: number;
  allCandidates?: boolean;
  /** JWT claims and what ext_authz answers, for a waypoint's filters (the principal is the source workload's). */
  identity?: SourceIdentity;
  metadata?: Record<string, Record<string, unknown>>;
}

/** The `ambient` part of the result (-o json): additive to the sidecar trace's result. */
export interface AmbientResult {
  source: { workload: string | null; address: string | null; node: string | null; identity: string | null; captured: boolean; ztunnel: string };
  /** How the client ztunnel sent it: through a service's or a workload's waypoint, straight to a workload, passthrough, or not at all. */
  path: 'service-waypoint' | 'workload-waypoint' | 'direct' | 'passthrough' | 'not-captured' | null;
  service: string | null;
  waypoint: {
    name: string;
    namespace: string;
    boundTo: 'service' | 'workload';
    reference: string;
    instance: string | null;
    address: string | null;
    identity: string | null;
    dump: string | null;
    /** The waypoint's own L7 authorization verdict (its RBAC filters); null when not reached or none. */
    authz: AuthzVerdict | null;
  } | null;
  /** Each HBONE tunnel along the path. */
  hbone: { from: string; to: string; authority: string; peerIdentity: string | null; clientIdentity: string | null }[];
  /** The pod that receives the connection. */
  destination: { workload: string; address: string; node: string | null; protocol: string } | null;
  /** The destination ztunnel's L4 policy verdict. */
  inbound: (AuthzVerdict & { ztunnel: string; peerIdentity: string | null; peerAddress: string | null }) | null;
}

/** One of several candidates, as a random pick would: `--random N` decides; else the first, said so. */
function choose<T>(cands: T[], random: number | undefined, who: string, label: (c: T) => string): { pick: T | undefined; how: string; uncertain?: string } {
  if (cands.length === 0) return { pick: undefined, how: 'no candidate' };
  if (cands.length === 1) return { pick: cands[0], how: `the only candidate` };
  if (random !== undefined) {
    const i = random % cands.length;
    return { pick: cands[i], how: `--random ${random}: candidate ${random} % ${cands.length} = ${i}` };
  }
  return {
    pick: cands[0],
    how: `the first of ${cands.length}`,
    uncertain: `${who} picks one of ${cands.length} at random (${cands.map(label).join(', ')}); the trace follows ${label(cands[0])} (--random N picks another, --all-candidates checks each)`,
  };
}

const podLabel = (w: ZtunnelWorkload) => `${w.name}.${w.namespace}`;
const certState = (c: CertsDump | undefined) => (c ? c.state.split(':')[0] : 'none');

/** Follows the request; `sources` reads the ztunnels and waypoints it needs. */
export async function traceAmbient(sources: AmbientSources, req: AmbientRequest): Promise<TraceOutput> {
  const parsed = parseTarget(req.target);
  if (typeof parsed === 'string') throw new TraceInputError(parsed);
  const target = parsed;
  const all = req.allCandidates === true;
  const model = sources.client.model;
  const steps: TraceStep[] = [];
  const uncertain: string[] = [];
  const ambient: AmbientResult = {
    source: { workload: null, address: null, node: null, identity: null, captured: false, ztunnel: sources.client.name },
    path: null,
    service: null,
    waypoint: null,
    hbone: [],
    destination: null,
    inbound: null,
  };
  const result: TraceResultData & { ambient: AmbientResult } = { ...emptyResult(uncertain), ambient };
  let at = '';
  const push = stepRecorder(steps, uncertain, all, () => at);
  const isHttp = target.scheme === 'http';
  const request = {
    target: req.target,
    direction: 'outbound',
    method: isHttp ? (req.method ?? 'GET') : null,
    authority: isHttp ? (req.headers?.find(([k]) => /^(host|:authority)$/i.test(k))?.[1] ?? target.authority) : null,
    path: isHttp ? target.path : null,
    headers: Object.fromEntries((req.headers ?? []).filter(([k]) => !/^(host|:authority)$/i.test(k)).map(([k, v]) => [k.toLowerCase(), v])),
    random: req.random ?? null,
    ambient: true,
  };
  const done = (): TraceOutput => ({ request, steps, result });
  const setAuthz = (v: AuthzVerdict) => {
    // the result's verdict: the first that does not allow, else the last
    if (!result.authz || result.authz.decision === 'ALLOW') result.authz = v;
  };

  // ---- source -------------------------------------------------------------------------------------
  at = `client ztunnel ${sources.client.name}`;
  let src: ZtunnelWorkload | undefined;
  if (req.source.name) {
    const list = req.source.namespace !== undefined ? model.workloadsByName(req.source.name, req.source.namespace) : model.workloads.filter((w) => w.name === req.source.name);
    src = list.find((w) => w.uid?.includes('//Pod/')) ?? list[0];
    if (list.length > 1 && req.source.namespace === undefined) throw new TraceInputError(`${list.length} workloads are named ${req.source.name}: give name.namespace`);
    // a client the ztunnel does not know cannot be traced from: bad input, not a finding
    if (!src) throw new TraceInputError(`${req.source.name}${req.source.namespace ? `.${req.source.namespace}` : ''} is not a workload of ${sources.client.name} (not scheduled yet, mistyped, or another cluster's)`);
  } else if (req.source.ip) {
    src = model.workloadByAddress(req.source.ip);
  }
  const srcIp = req.source.ip ?? (src ? workloadIps(src)[0] : undefined);
  if (!srcIp) throw new TraceInputError('the source pod has no address in the ztunnel view: give --src');
  ambient.source.address = srcIp;
  if (!src) {
    ambient.source.captured = false;
    push({ stage: 'source', chosen: srcIp, summary: `${srcIp} is no workload ztunnel knows: a client outside the mesh, its traffic is not captured`, data: { captured: false } });
  } else {
    const identity = workloadIdentity(src);
    const captured = workloadProtocol(src) === 'HBONE';
    Object.assign(ambient.source, { workload: `${src.namespace}/${src.name}`, node: src.node ?? null, identity: captured ? identity : null, captured });
    const matched = [`workload ${src.uid ?? podLabel(src)}`, `node ${src.node ?? '(none)'}, address ${srcIp}`, `identity ${identity}`];
    const notes: string[] = [];
    const unc: string[] = [];
    // why it is (not) captured, by istio-cni's enrolment rule (src/ambient), when the objects are known
    const world = await sources.resources?.(src.namespace);
    const podObj = world?.pods.find((p) => p.metadata?.name === src!.name && (p.metadata?.namespace || 'default') === src!.namespace);
    if (world && podObj) {
      const e = ambientEnrollment(podObj, world.namespaces);
      if (e.enrolled !== undefined) matched.push(`why: ${e.enrolled ? 'enrolled in ambient' : 'not enrolled in ambient'}: ${e.reason}`);
      else notes.push(`whether the pod is enrolled is unknown: ${e.reason}`);
      if (e.enrolled === true && !captured) notes.push('enrolled by its labels, but ztunnel has it as TCP: not redirected yet, or istiod has not pushed it');
      if (e.enrolled === false && captured) notes.push(`ztunnel captures it although its labels say it is not enrolled (${e.reason}): changed since, or not pushed yet`);
    }
    if (captured) {
      matched.push(`protocol HBONE: in the ambient mesh, ztunnel captures its traffic`);
      const local = model.stateOf(src.name, src.namespace);
      const cert = model.certificateFor(identity);
      if (local) {
        notes.push(`${sources.client.name} serves this pod (in-pod mode): state ${local.state}`);
        if (local.state !== 'Up') notes.push("the pod's redirection is not set up yet (Pending): its connections are not captured until it is");
      }
      if (cert) {
        const valid = cert.certChain?.[0] ? new Date(cert.certChain[0].expirationTime).getTime() > Date.now() : false;
        matched.push(`certificate for ${identity}: ${cert.state}${cert.state === 'Available' ? (valid ? '' : ' but expired') : ''}`);
        if (certState(cert) === 'Unavailable') {
          push({ stage: 'source', chosen: podLabel(src), summary: `ztunnel has no certificate for ${identity} (${cert.state}): it cannot open HBONE connections for this pod`, matched, notes });
          return done();
        }
        if (certState(cert) === 'Initializing') notes.push('the certificate is still being fetched: connections wait for it');
      } else if (local) notes.push(`this ztunnel holds no certificate for ${identity} yet (it fetches one on the first connection)`);
      else if (model.has('workloadState') || model.has('certificates')) unc.push(`${sources.client.name} does not serve this pod (another node's ztunnel): the client's certificate state is unknown`);
    } else {
      matched.push('protocol TCP: not in the ambient mesh (no ambient label, a sidecar, or not captured yet): ztunnel does not see its outbound traffic');
    }
    push({ stage: 'source', chosen: podLabel(src), summary: `${podLabel(src)} on ${src.node ?? '?'}: ${captured ? 'captured by ztunnel (HBONE)' : 'not captured by ztunnel'}`, matched, notes, uncertain: unc, data: { identity, protocol: workloadProtocol(src), node: src.node ?? null } });
  }
  const captured = ambient.source.captured;

  // ---- destination --------------------------------------------------------------------------------
  const dst = resolveAmbientDestination(model, target.host, src?.namespace, req.dstIp);
  const dstHost = dst.ip ?? '240.240.240.240';
  push({
    stage: 'destination',
    chosen: dst.ip ? joinHostPort(dst.ip, String(target.port)) : null,
    summary: dst.ip ? `${isHttp ? 'HTTP' : target.scheme === 'https' ? 'TLS' : 'TCP'} connection to ${joinHostPort(dst.ip, String(target.port))} from ${srcIp}` : `${target.host} cannot be resolved offline`,
    matched: [`destination IP: ${dst.how}`],
    notes: dst.notes,
    uncertain: dst.uncertain ? [dst.uncertain] : [],
    data: { host: target.host, port: target.port, ip: dst.ip ?? null, how: dst.how, src: srcIp },
  });
  if (!dst.ip) return done();
  const port = target.port;

  // ---- the client ztunnel's decision ---------------------------------------------------------------
  let next: { kind: 'waypoint'; gw: ResolvedGateway; bound: 'service' | 'workload'; authority: string; svc?: ZtunnelService } | { kind: 'workload'; cand: Upstream; svc?: ZtunnelService } | { kind: 'passthrough' } | null = null;
  const targetWorkload = model.workloadByAddress(dstHost);
  const targetService = targetWorkload ? undefined : model.serviceByVip(dstHost);
  if (targetService) ambient.service = `${targetService.namespace}/${targetService.hostname}`;
  if (!captured) {
    // Not captured: the kernel routes it (kube-proxy for a VIP); the destination's ztunnel may still see it.
    ambient.path = 'not-captured';
    const matched: string[] = [];
    const unc: string[] = [];
    let cand: Upstream | undefined;
    if (targetService) {
      const sp = serviceUpstreams(model, targetService, port, src, dstHost);
      const c = choose(sp.cands, req.random, 'kube-proxy', (x) => x.label);
      cand = c.pick;
      matched.push(`${dstHost} is the VIP of service ${targetService.namespace}/${targetService.hostname}: kube-proxy (not ztunnel) picks an endpoint`, ...sp.cands.map((x) => `candidate ${x.label}`));
      if (c.uncertain) unc.push(c.uncertain.replace(/--all-candidates checks each/, 'kube-proxy balances on its own'));
      push({ stage: 'ztunnel', chosen: cand ? cand.label : null, summary: cand ? `not captured: plain TCP from the pod to ${cand.label} (${c.how})` : `service ${targetService.hostname} has no endpoint to reach`, matched, losers: sp.dropped, uncertain: unc });
    } else if (targetWorkload) {
      const ip = addressFor(targetWorkload, dstHost) ?? dstHost;
      cand = { workload: targetWorkload, ip, port, status: workloadStatus(targetWorkload), label: `${podLabel(targetWorkload)} ${joinHostPort(ip, String(port))}` };
      push({ stage: 'ztunnel', chosen: cand.label, summary: `not captured: plain TCP straight to ${cand.label}`, matched: [`${dstHost} is the address of workload ${podLabel(targetWorkload)}`] });
    } else {
      push({ stage: 'ztunnel', chosen: null, summary: `not captured, and ${dstHost} is no workload or service ztunnel knows: the connection leaves the mesh` });
      return done();
    }
    if (cand) await deliver(cand, null, srcIp, 'plaintext from the client');
    return done();
  }

  if (targetWorkload) {
    const ip = addressFor(targetWorkload, dstHost) ?? dstHost;
    const cand: Upstream = { workload: targetWorkload, ip: dstHost, port, status: workloadStatus(targetWorkload), label: `${podLabel(targetWorkload)} ${joinHostPort(ip, String(port))}` };
    const gw = model.workloadWaypoint(targetWorkload);
    const matched = [`${dstHost} is the address of workload ${podLabel(targetWorkload)} (addressed directly, not through a service)`];
    const why = bindingWhy(await sources.resources?.(targetWorkload.namespace), 'workload', targetWorkload.name, targetWorkload.namespace, gw);
    if (gw && !isWaypointItself(src, gw)) {
      next = { kind: 'waypoint', gw, bound: 'workload', authority: joinHostPort(dstHost, String(port)) };
      matched.push(`the workload uses waypoint ${gatewayText(gw)} (its waypoint field): ztunnel sends through it`);
      ambient.path = 'workload-waypoint';
      push({ stage: 'ztunnel', chosen: `waypoint ${gatewayName(gw)}`, summary: `traffic to workload ${podLabel(targetWorkload)} goes through its workload-bound waypoint ${gatewayName(gw)}`, matched: [...matched, ...why.matched], notes: why.notes });
    } else {
      next = { kind: 'workload', cand };
      ambient.path = 'direct';
      push({ stage: 'ztunnel', chosen: cand.label, summary: `straight to workload ${podLabel(targetWorkload)} (no workload waypoint)`, matched: [...matched, ...why.matched], notes: why.notes });
    }
  } else if (targetService) {
    const svc = targetService;
    const matched = [`${dstHost} is the VIP of service ${svc.namespace}/${svc.hostname}`];
    const gw = model.serviceWaypoint(svc);
    const known = svc.ports?.[String(port)];
    const why = bindingWhy(await sources.resources?.(svc.namespace), 'service', svc.name, svc.namespace, gw);
    matched.push(...why.matched);
    if (gw && !isWaypointItself(src, gw)) {
      next = { kind: 'waypoint', gw, bound: 'service', authority: joinHostPort(dstHost, String(port)), svc };
      matched.push(`the service uses waypoint ${gatewayText(gw)} (its waypoint field): ztunnel sends through it, whatever the port`);
      ambient.path = 'service-waypoint';
      push({ stage: 'ztunnel', chosen: `waypoint ${gatewayName(gw)}`, summary: `traffic to service ${svc.hostname} goes through its service-bound waypoint ${gatewayName(gw)}`, matched, notes: why.notes });
    } else {
      if (known === undefined) {
        push({ stage: 'ztunnel', chosen: null, summary: `service ${svc.hostname} has no port ${port} (ports ${Object.keys(svc.ports ?? {}).join(', ') || 'none'}): ztunnel finds no upstream and fails the connection`, matched });
        return done();
      }
      matched.push(`no service waypoint: ztunnel load-balances over the service's endpoints itself`, `port ${port} → target port ${known === 0 ? "named on each endpoint" : known}`);
      const sp = serviceUpstreams(model, svc, port, src, dstHost);
      const c = choose(sp.cands, req.random, 'ztunnel', (x) => x.label);
      const notes = [...why.notes, ...sp.notes];
      if (sp.cands.some((x) => x.workload.waypoint)) notes.push('endpoints with a workload waypoint are reached directly here: ztunnel uses a workload waypoint only for traffic addressed to the workload, not to a service');
      if (!c.pick) {
        const passthrough = svc.loadBalancer?.mode === 'Passthrough';
        push({ stage: 'ztunnel', chosen: null, summary: passthrough ? `no endpoint, and the service is Passthrough: sent as plain TCP to ${joinHostPort(dstHost, String(port))}` : `service ${svc.hostname} has no healthy endpoint: ztunnel fails the connection (no healthy upstream)`, matched, losers: sp.dropped, notes });
        return done();
      }
      if (c.pick.port === null) {
        push({ stage: 'ztunnel', chosen: c.pick.label, summary: `the target port of ${c.pick.label} is named (a port name the workload resolves): not in the dump`, matched, uncertain: [`target port of ${podLabel(c.pick.workload)} for service port ${port} unknown`] });
        return done();
      }
      matched.push(...sp.cands.map((x) => `candidate ${x.label}${x === c.pick ? ` ← ${c.how}` : ''}${all ? ` (${candidateVerdict(model, x, src, srcIp)})` : ''}`));
      next = { kind: 'workload', cand: c.pick, svc };
      ambient.path = 'direct';
      push({ stage: 'ztunnel', chosen: c.pick.label, summary: `endpoint ${c.pick.label} of service ${svc.hostname} (${c.how})`, matched, losers: sp.dropped, notes, uncertain: [...(c.uncertain ? [c.uncertain] : []), ...verdictsDiffer(model, sp.cands, req.random, src, srcIp)] });
    }
  } else {
    ambient.path = 'passthrough';
    push({ stage: 'ztunnel', chosen: `passthrough ${joinHostPort(dstHost, String(port))}`, summary: `${dstHost} is no workload or service ztunnel knows: passed through as plain TCP to ${joinHostPort(dstHost, String(port))} (no HBONE, no policy)`, notes: ['outside the mesh: nothing decides it beyond this point (an egress gateway or ServiceEntry would make it known)'] });
    return done();
  }

  const clientIdentity = workloadIdentity(src!);
  if (next.kind === 'workload') {
    await sendDirect(next.cand, next.svc);
    return done();
  }

  // ---- through the waypoint ------------------------------------------------------------------------
  const w = next;
  const gwName = gatewayName(w.gw);
  const gwNs = w.gw.service?.namespace ?? w.gw.workload?.namespace ?? '';
  ambient.waypoint = { name: gwName, namespace: gwNs, boundTo: w.bound, reference: w.gw.gateway.destination, instance: null, address: null, identity: null, dump: null, authz: null };
  let instances: ZtunnelWorkload[] = [];
  const dropped: { name: string; reason: string }[] = [];
  if (w.gw.workload) instances = [w.gw.workload];
  else if (w.gw.service) {
    for (const ep of model.endpointsOf(w.gw.service)) {
      if (!ep.workload) dropped.push({ name: ep.uid, reason: 'unknown workload' });
      else if ((ep.status !== 'Healthy' ? ep.status : workloadStatus(ep.workload)) !== 'Healthy') dropped.push({ name: podLabel(ep.workload), reason: 'not healthy' });
      else instances.push(ep.workload);
    }
  }
  const ci = choose(instances, req.random, 'ztunnel', podLabel);
  const wpInst = ci.pick;
  const wpMatched = [
    `waypoint reference ${w.gw.gateway.destination} (${w.gw.form === 'address' ? 'by address' : 'by hostname'}) → ${w.gw.service ? `service ${w.gw.service.namespace}/${w.gw.service.hostname}` : w.gw.workload ? `workload ${podLabel(w.gw.workload)}` : 'nothing this ztunnel knows'}`,
    ...instances.map((i) => `instance ${podLabel(i)} ${workloadIps(i)[0] ?? '?'}${i === wpInst ? ` ← ${ci.how}` : ''}`),
  ];
  if (!wpInst) {
    push({ stage: 'hbone', chosen: null, summary: `the waypoint ${gwName} has no ready instance ztunnel knows: the connection fails`, matched: wpMatched, losers: dropped });
    return done();
  }
  const wpIp = addressFor(wpInst, dstHost) ?? '';
  const wpIdentity = workloadIdentity(wpInst);
  Object.assign(ambient.waypoint, { instance: `${wpInst.namespace}/${wpInst.name}`, address: wpIp, identity: wpIdentity });
  const hop1 = { from: `${ambient.source.workload} (${srcIp})`, to: joinHostPort(wpIp, String(w.gw.port)), authority: w.authority, peerIdentity: wpIdentity, clientIdentity };
  ambient.hbone.push(hop1);
  push({
    stage: 'hbone',
    chosen: hop1.to,
    summary: `HBONE to waypoint ${podLabel(wpInst)} at ${hop1.to}: mTLS as ${clientIdentity}, CONNECT :authority ${w.authority}`,
    matched: [...wpMatched, `the waypoint's identity is checked: ${wpIdentity}`, `the CONNECT carries the client's address ${srcIp} (Forwarded header): the waypoint sees the original source`],
    losers: dropped,
    uncertain: ci.uncertain ? [ci.uncertain] : [],
  });

  const loaded = await sources.waypoint(wpInst, { name: gwName, namespace: gwNs });
  at = `waypoint ${podLabel(wpInst)}`;
  if ('missing' in loaded) {
    push({ stage: 'listener', chosen: null, summary: `the waypoint's Envoy configuration is not available: its routing, L7 policies and endpoint choice are unknown`, uncertain: [loaded.missing] });
    return done();
  }
  const wv = loaded.view;
  ambient.waypoint.dump = wv.name;
  // connect_terminate → its CONNECT route → the internal listener, read from the dump by the trace engine
  const term = terminateHbone(wv.world, wv.dump, {
    ip: wpIp,
    port: w.gw.port,
    authority: w.authority,
    srcIp,
    identity: { ...(req.identity ?? {}), principal: clientIdentity },
    random: req.random,
    allCandidates: req.allCandidates,
    at,
  });
  if (loaded.note) term.steps[0]?.notes.unshift(loaded.note);
  for (const s of term.steps) {
    steps.push(s);
    uncertain.push(...s.uncertain);
  }
  if (!term.entry) {
    // where the tunnel ended: the CONNECT's listener, route and cluster (or its 403) are the result
    const r = term.result;
    if (r) Object.assign(result, { listener: r.listener, filterChain: r.filterChain, routeConfig: r.routeConfig, virtualHost: r.virtualHost, route: r.route, cluster: r.cluster, directResponse: r.directResponse });
    return done();
  }
  const [authIp, authPort] = splitAuthority(w.authority);
  const wt = traceRequest(wv.world, {
    target: req.target,
    method: req.method,
    headers: req.headers,
    direction: 'inbound',
    srcIp,
    dstIp: authIp,
    random: req.random,
    allCandidates: req.allCandidates,
    metadata: req.metadata as never,
    identity: { ...(req.identity ?? {}), principal: clientIdentity, viaTunnel: `the HBONE tunnel ${term.steps[0]?.chosen ?? 'connect_terminate'} ended` },
    entry: term.entry,
    at,
  });
  // The waypoint's own destination step repeats ours: keep its listener and later steps.
  for (const s of wt.steps.filter((x) => x.stage !== 'destination')) {
    steps.push(s);
    uncertain.push(...s.uncertain);
  }
  const r = wt.result;
  Object.assign(result, { listener: r.listener, filterChain: r.filterChain, routeConfig: r.routeConfig, virtualHost: r.virtualHost, route: r.route, cluster: r.cluster, weightedClusters: r.weightedClusters, pathRewrite: r.pathRewrite, hostRewrite: r.hostRewrite, redirect: r.redirect, directResponse: r.directResponse });
  if (r.authz) {
    ambient.waypoint.authz = { ...r.authz };
    setAuthz({ ...r.authz });
  }
  if (r.authz?.decision === 'DENY' || !r.cluster) return done();
  const eps = waypointUpstream(wv.world, wv.dump, r.cluster, { ip: authIp, port: authPort }, r);
  if (!eps) {
    push({ stage: 'endpoints', chosen: null, summary: `endpoints of ${r.cluster} are not in ${wv.name}`, uncertain: [`endpoints of ${r.cluster} unknown`] });
    return done();
  }
  if (eps.problem) {
    push({ stage: 'endpoints', chosen: null, summary: eps.problem, uncertain: eps.uncertain });
    return done();
  }
  // The waypoint's endpoints, as pods of the ztunnel's view.
  const cands: Upstream[] = [];
  const epDropped: { name: string; reason: string }[] = [];
  for (const e of eps.list) {
    const wl = model.workloadByAddress(e.ip);
    const label = `${wl ? podLabel(wl) : e.ip} ${joinHostPort(e.ip, String(e.port))}`;
    if (!/^(HEALTHY|UNKNOWN|n\/a)/.test(e.health)) epDropped.push({ name: label, reason: `${e.health}: Envoy does not send to it` });
    else if (!wl) epDropped.push({ name: label, reason: 'no workload of the ztunnel has this address' });
    else cands.push({ workload: wl, ip: e.ip, port: e.port, status: e.health, label });
  }
  result.endpoints = eps.list.map((e): EndpointInfo => ({ address: joinHostPort(e.ip, String(e.port)), health: e.health, locality: e.locality, weight: null, priority: 0, tlsMode: null, hostname: null }));
  const ce = choose(cands, req.random, "the waypoint's load balancer", (x) => x.label);
  const originated = originateFacts(wv.dump, wv.world, eps.via ?? 'connect_originate');
  const wpOut = { ...originated, port: originated.port ?? DEFAULT_HBONE_PORT };
  push({
    stage: 'endpoints',
    chosen: ce.pick?.label ?? null,
    summary: ce.pick ? `endpoint ${ce.pick.label} of ${r.cluster} (${ce.how}; ${eps.how})` : `${r.cluster} has no endpoint to send to: Envoy answers 503 (UH)`,
    matched: cands.map((x) => `candidate ${x.label}${x === ce.pick ? ` ← ${ce.how}` : ''}${all ? ` (${candidateVerdict(model, x, wpInst, wpIp)})` : ''}`),
    losers: epDropped,
    uncertain: [...eps.uncertain, ...(ce.uncertain ? [ce.uncertain] : []), ...verdictsDiffer(model, cands, req.random, wpInst, wpIp)],
  });
  if (!ce.pick) return done();
  const dstWl = ce.pick.workload;
  const hbone = workloadProtocol(dstWl) === 'HBONE';
  if (!hbone) {
    push({ stage: 'hbone', chosen: joinHostPort(ce.pick.ip, String(ce.pick.port)), summary: `${podLabel(dstWl)} is not in the ambient mesh (protocol TCP): the waypoint connects to it without HBONE; no ztunnel policy applies`, matched: wpOut.facts, notes: wpOut.notes });
    finalDelivery(ce.pick, 'TCP', null);
    return done();
  }
  const hop2 = { from: `waypoint ${podLabel(wpInst)} (${wpIp})`, to: joinHostPort(ce.pick.ip, String(wpOut.port)), authority: joinHostPort(ce.pick.ip, String(ce.pick.port)), peerIdentity: workloadIdentity(dstWl), clientIdentity: wpIdentity };
  ambient.hbone.push(hop2);
  push({
    stage: 'hbone',
    chosen: hop2.to,
    summary: `HBONE from the waypoint to ${hop2.to}: mTLS as ${wpIdentity}, CONNECT :authority ${hop2.authority}`,
    matched: [...wpOut.facts, `the destination ztunnel presents ${workloadIdentity(dstWl)}`],
    notes: wpOut.notes,
  });
  await inbound(ce.pick, wpIdentity, wpIp, `the waypoint ${podLabel(wpInst)}`);
  return done();

  // ---- helpers sharing the trace's state --------------------------------------------------------------

  async function sendDirect(cand: Upstream, svc: ZtunnelService | undefined): Promise<void> {
    const wl = cand.workload;
    const tport = cand.port ?? port;
    if (workloadProtocol(wl) !== 'HBONE') {
      push({ stage: 'hbone', chosen: joinHostPort(cand.ip, String(tport)), summary: `${podLabel(wl)} is not in the ambient mesh (protocol TCP): ztunnel connects to ${joinHostPort(cand.ip, String(tport))} in plain TCP, without HBONE`, notes: ['no ztunnel decides on the receiving side; a sidecar there applies its own policies (meshctl trace <pod> --direction inbound)'] });
      finalDelivery(cand, 'TCP', null);
      return;
    }
    const hop = { from: `${ambient.source.workload} (${srcIp})`, to: joinHostPort(cand.ip, String(DEFAULT_HBONE_PORT)), authority: joinHostPort(cand.ip, String(tport)), peerIdentity: workloadIdentity(wl), clientIdentity };
    ambient.hbone.push(hop);
    push({
      stage: 'hbone',
      chosen: hop.to,
      summary: `HBONE to ${hop.to}: mTLS as ${clientIdentity}, CONNECT :authority ${hop.authority}`,
      matched: [`expects the peer identity ${workloadIdentity(wl)}${svc?.subjectAltNames?.length ? ` or the service's ${svc.subjectAltNames.join(', ')}` : ''}`],
    });
    await inbound(cand, clientIdentity, srcIp!, 'the client ztunnel');
  }

  async function deliver(cand: Upstream, identity: string | null, peerIp: string, how: string): Promise<void> {
    if (workloadProtocol(cand.workload) !== 'HBONE') {
      finalDelivery(cand, 'TCP', null);
      return;
    }
    await inbound(cand, identity, peerIp, how);
  }

  /** The destination node's ztunnel: its L4 policies for the peer it sees. */
  async function inbound(cand: Upstream, identity: string | null, peerIp: string, peer: string): Promise<void> {
    const wl = cand.workload;
    const node = wl.node ?? '';
    const view = node && node === localNode(model) ? sources.client : await sources.ztunnelOn(node);
    const unc: string[] = [];
    const notes: string[] = [];
    let dm = model;
    let dname: string;
    if ('missing' in view) {
      dname = `on ${node || '?'}`;
      notes.push(`policies decided on ${sources.client.name}'s view: every ztunnel receives the same workloads and policies from istiod`);
      unc.push(view.missing);
    } else {
      dm = view.model;
      dname = view.name;
      if (view.uncertain) unc.push(view.uncertain);
    }
    at = `destination ztunnel ${dname}`;
    const dwl = dm.workloadByAddress(cand.ip) ?? wl;
    const tport = cand.port ?? port;
    const policies = dm.policiesFor(dwl);
    const z = ztunnelAuthz(policies, {
      srcIdentity: identity,
      srcIp: peerIp,
      dstIp: cand.ip,
      dstPort: tport,
      hints: { identity: 'the peer identity', ip: 'pass --src' },
    });
    z.step.notes.unshift(`peer: ${peer} (${peerIp}), identity ${identity ?? 'none (plaintext)'}; destination ${podLabel(dwl)} ${joinHostPort(cand.ip, String(tport))}`, ...notes);
    z.step.uncertain.unshift(...unc);
    // what the written AuthorizationPolicies mean for this pod that ztunnel's L4 view cannot show (src/ambient)
    const world = await sources.resources?.(dwl.namespace);
    const podObj = world?.pods.find((p) => p.metadata?.name === dwl.name && (p.metadata?.namespace || 'default') === dwl.namespace);
    if (world && podObj) {
      const through = ambient.waypoint ? [`${ambient.waypoint.namespace}/${ambient.waypoint.name}`] : [];
      z.step.notes.push(...ztunnelPolicyWarnings(world.authorizationPolicies, podObj, sources.rootNamespace ?? 'istio-system', through));
    }
    if (!('missing' in view)) {
      const cert = dm.certificateFor(workloadIdentity(dwl));
      if (identity !== null) {
        if (cert) z.step.matched.unshift(`certificate for ${workloadIdentity(dwl)}: ${cert.state}`);
        else if (dm.has('certificates')) z.step.notes.push(`this ztunnel holds no certificate for ${workloadIdentity(dwl)} yet (it fetches one on the first connection)`);
      }
    }
    push(z.step);
    ambient.inbound = { ...z.verdict, ztunnel: dname, peerIdentity: identity, peerAddress: peerIp };
    setAuthz(z.verdict);
    if (z.verdict.decision === 'DENY') return;
    finalDelivery(cand, 'HBONE', 'missing' in view ? null : dm);
  }

  function finalDelivery(cand: Upstream, protocol: string, dm: ZtunnelModel | null): void {
    const wl = cand.workload;
    const tport = cand.port ?? port;
    const addr = joinHostPort(cand.ip, String(tport));
    ambient.destination = { workload: `${wl.namespace}/${wl.name}`, address: addr, node: wl.node ?? null, protocol };
    if (!result.endpoints) result.endpoints = [{ address: addr, health: workloadStatus(wl).toUpperCase(), locality: wl.locality?.zone ? `${wl.locality.region}/${wl.locality.zone}` : null, weight: null, priority: 0, tlsMode: protocol === 'HBONE' ? 'HBONE' : null, hostname: null }];
    const state = dm?.stateOf(wl.name, wl.namespace);
    const notes: string[] = [];
    if (state && state.state !== 'Up') notes.push(`the pod's state in its ztunnel is ${state.state}: not ready to receive yet`);
    if (workloadStatus(wl) !== 'Healthy') notes.push(`the workload is ${workloadStatus(wl)}`);
    push({ stage: 'delivery', chosen: addr, summary: `delivered to ${podLabel(wl)} at ${addr}${protocol === 'HBONE' ? ' (ztunnel ends the HBONE tunnel and connects to the pod)' : ''}`, matched: [`node ${wl.node ?? '?'}`], notes });
  }
}

/**
 * Why the destination has (or lacks) the waypoint ztunnel uses, from the labels istiod reads (src/ambient's
 * binding rules): the label that bound it, a label naming a waypoint istiod refuses, or a disagreement with
 * ztunnel's view (not pushed yet, or objects not read). Nothing without the objects.
 */
function bindingWhy(world: AmbientWorld | undefined, kind: 'service' | 'workload', name: string | undefined, namespace: string, gw: ResolvedGateway | undefined): { matched: string[]; notes: string[] } {
  const out = { matched: [] as string[], notes: [] as string[] };
  if (!world || !name) return out;
  const list: Obj[] = kind === 'service' ? world.services : world.pods;
  const obj = list.find((o) => o.metadata?.name === name && (o.metadata?.namespace || 'default') === namespace);
  const what = `${kind === 'service' ? 'service' : 'pod'} ${name}.${namespace}`;
  if (!obj) {
    out.notes.push(`the ${kind === 'service' ? 'Service' : 'Pod'} ${name}.${namespace} is not among the resources read: why it has ${gw ? 'this' : 'no'} waypoint is not shown`);
    return out;
  }
  const b: WaypointBinding = waypointFor(world, obj, kind);
  const by = b.source === 'namespace' ? `its namespace's istio.io/use-waypoint label` : 'its own istio.io/use-waypoint label';
  const ours = b.state === 'bound' ? b.waypoint!.split('/')[1] : undefined;
  const theirs = gw ? gatewayName(gw) : undefined;
  if (b.state === 'bound') out.matched.push(`why: ${what} is bound to waypoint ${b.waypoint} by ${by}${b.facts ? ` (waypoint-for ${b.facts.trafficType}, Programmed ${b.facts.programmed})` : ''}`);
  else if (b.state === 'opt-out') out.matched.push(`why: ${what} opts out of waypoints (istio.io/use-waypoint: none)`);
  else if (b.state === 'problem') out.notes.push(`${what}: ${by} names ${namedWaypoint(b)}: istiod binds no waypoint`);
  else if (b.state === 'unknown') out.notes.push(`whether ${what} has a waypoint by its labels is unknown: ${b.message}`);
  else out.matched.push(`why: no istio.io/use-waypoint label applies to ${what}${b.message ? ` (${b.message})` : ''}`);
  if (b.state !== 'unknown' && ours !== theirs) {
    out.notes.push(`the labels read give ${ours ? `waypoint ${b.waypoint}` : 'no waypoint'}, but ztunnel has ${theirs ? `waypoint ${theirs}` : 'none'}: the trace follows ztunnel (configuration changed since, not pushed yet, or not every object was read)`);
  }
  return out;
}

function isWaypointItself(src: ZtunnelWorkload | undefined, gw: ResolvedGateway): boolean {
  if (!src) return false;
  if (gw.workload) return gw.workload === src;
  return Boolean(gw.service && (src.services ?? []).includes(`${gw.service.namespace}/${gw.service.hostname}`));
}

function gatewayName(gw: ResolvedGateway): string {
  if (gw.service) return gw.service.name;
  if (gw.workload) return gw.workload.name;
  const slash = gw.gateway.destination.indexOf('/');
  return gw.gateway.destination.slice(slash + 1).split('.')[0];
}

function gatewayText(gw: ResolvedGateway): string {
  const what = gw.service ? `service ${gw.service.namespace}/${gw.service.hostname}` : gw.workload ? `workload ${podLabel(gw.workload)}` : 'nothing this ztunnel knows';
  return `${gw.gateway.destination} → ${what}, HBONE port ${gw.port}`;
}

function splitAuthority(a: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(a);
  return m ? [m[1], Number(m[2])] : [a, 0];
}

/**
 * When a random pick decides and the candidates' ztunnels would not all decide alike, the pick decides the
 * verdict: say so (the trace follows one, it does not guess the outcome).
 */
function verdictsDiffer(model: ZtunnelModel, cands: Upstream[], random: number | undefined, peer: ZtunnelWorkload | undefined, peerIp: string): string[] {
  if (random !== undefined || cands.length < 2) return [];
  const verdicts = cands.map((c) => ({ c, v: candidateVerdict(model, c, peer, peerIp) }));
  if (new Set(verdicts.map((x) => x.v)).size < 2) return [];
  return [`the destination ztunnels do not all decide alike (${verdicts.map((x) => `${x.c.label}: ${x.v.replace(/^its ztunnel: /, '')}`).join('; ')}): the outcome depends on the random pick`];
}

/** What the destination's ztunnel would decide for this candidate (for --all-candidates). */
function candidateVerdict(model: ZtunnelModel, c: Upstream, peer: ZtunnelWorkload | undefined, peerIp: string): string {
  if (workloadProtocol(c.workload) !== 'HBONE') return 'not in the ambient mesh: no ztunnel policy';
  const z = ztunnelAuthz(model.policiesFor(c.workload), { srcIdentity: peer ? workloadIdentity(peer) : null, srcIp: peerIp, dstIp: c.ip, dstPort: c.port ?? undefined });
  return `its ztunnel: ${z.verdict.decision}${z.verdict.policy ? ` by ${z.verdict.policy}` : ''}`;
}

/**
 * The target host → an address, as the pod's DNS would answer (ztunnel's DNS proxy or kube-dns): a given
 * --dst-ip, an IP literal, or a service of the ztunnel by hostname (`name`, `name.ns`, `name.ns.svc`, the
 * FQDN, or a ServiceEntry host), its first VIP of the family the client prefers (IPv4).
 */
export function resolveAmbientDestination(model: ZtunnelModel, host: string, srcNs: string | undefined, given?: string): { ip?: string; how: string; notes: string[]; uncertain?: string } {
  const notes: string[] = [];
  if (given) return { ip: given, how: `--dst-ip ${given}`, notes };
  if (isIP(host)) return { ip: host, how: 'the target is an IP address', notes };
  const h = host.toLowerCase().replace(/\.$/, '');
  // the names the client's resolver tries, in its order (one rule: resources/hosts.ts)
  const names = searchNames(host, srcNs);
  for (const n of names) {
    const list = model.servicesByHostname(n);
    if (!list.length) continue;
    const svc = list.find((s) => s.namespace === srcNs) ?? list[0];
    if (list.length > 1) notes.push(`${list.length} services have hostname ${n} (${list.map((s) => s.namespace).join(', ')}): the one ${svc.namespace === srcNs ? "of the client's namespace" : 'first in the dump'} is used`);
    const vips = serviceVips(svc).map((v) => splitNetworkAddress(v)?.ip ?? vipAddress(v));
    const ip = vips.find((v) => !v.includes(':')) ?? vips[0];
    if (ip) {
      if (vips.length > 1) notes.push(`the service has ${vips.length} VIPs (${vips.join(', ')}): the IPv4 one is used, as a dual-stack client prefers`);
      return { ip, how: `${ip}: VIP of service ${svc.namespace}/${svc.hostname}${n !== h ? ` (${host} completed to ${n})` : ''}`, notes };
    }
    const first = model.endpointsOf(svc).map((e) => (e.workload ? workloadIps(e.workload)[0] : undefined)).find((x) => x !== undefined);
    if (first) {
      return { ip: first, how: `${first}: service ${svc.hostname} has no VIP; DNS answers with its endpoints' addresses, the first is used`, notes, uncertain: `${svc.hostname} has no VIP: DNS may answer with another endpoint; pass --dst-ip` };
    }
    return { how: `service ${svc.namespace}/${svc.hostname} has no VIP and no endpoint address (DNS resolution outside the mesh)`, notes, uncertain: `the address of ${host} is not known offline; pass --dst-ip` };
  }
  return { how: `${host} is no service hostname this ztunnel knows`, notes, uncertain: `the address of ${host} is not known offline (DNS outside the mesh); pass --dst-ip` };
}
