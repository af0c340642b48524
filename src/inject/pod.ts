import yaml from 'js-yaml';
import { labelSelectorMatches } from '../resources/selector.js';
import { type InjectSettings, type Obj, InjectError, deepMerge, get, goJson, isObj } from './config.js';
import { PROXY_CONFIG_DEFAULTS } from './defaults.js';
import { renderGateway } from './gateway-template.js';
import { goContainerJson } from './gojson.js';
import { renderGrpcAgent, renderGrpcSimple } from './grpc-templates.js';
import { CORE_DUMP, INIT, PROXY, VALIDATION, type SidecarParts, type TemplateInput, type WorkloadRef, holdApplication, isNativeSidecar, renderSidecar } from './template.js';
import { validateAnnotations } from './validate.js';

export { InjectError } from './config.js';

export const STATUS_ANNOTATION = 'sidecar.istio.io/status';
export const PROBERS_ENV = 'ISTIO_KUBE_APP_PROBERS';
export const PROMETHEUS_ENV = 'ISTIO_PROMETHEUS_ANNOTATIONS';
export const OVERRIDES_ANNOTATION = 'proxy.istio.io/overrides';

/** Strategic-merge keys of the container lists Kubernetes merges by key. */
const MERGE_KEYS: Record<string, string> = { env: 'name', ports: 'containerPort', volumeMounts: 'mountPath', volumeDevices: 'devicePath' };

/** A container's fields over another's, lists merged by their Kubernetes merge keys. */
function mergeContainer(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const key = MERGE_KEYS[k];
    if (key && Array.isArray(v) && Array.isArray(out[k])) {
      const list = (out[k] as Obj[]).slice();
      for (const item of v as Obj[]) {
        const i = list.findIndex((e) => isObj(e) && isObj(item) && e[key] === item[key]);
        if (i >= 0) list[i] = deepMerge(list[i], item);
        else list.push(item);
      }
      out[k] = list;
    } else out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  }
  return out;
}

/**
 * Containers the pod and the template both define (a customised istio-proxy, or the app containers the
 * gRPC templates extend): the pod's own version is laid over the rendered one, so its fields win (image
 * "auto" keeps the injected image), and it is recorded in proxy.istio.io/overrides, under the list where
 * the template has it, as the injector does (reapplyOverwrittenContainers). With native sidecars an
 * istio-proxy written under containers moves to initContainers first, as the injector moves it.
 */
function applyOverrides(spec: Obj, parts: SidecarParts): string | undefined {
  const recorded: Record<'containers' | 'initContainers', Obj[]> = { containers: [], initContainers: [] };
  const proxyIsInit = parts.initContainers.some((c) => c.name === PROXY);
  if (proxyIsInit) {
    const containers = asList(spec.containers);
    const i = containers.findIndex((c) => isObj(c) && c.name === PROXY);
    if (i >= 0 && !asList(spec.initContainers).some((c) => isObj(c) && c.name === PROXY)) {
      spec.initContainers = [...asList(spec.initContainers), containers[i]];
      spec.containers = [...containers.slice(0, i), ...containers.slice(i + 1)];
    }
  }
  for (const key of ['containers', 'initContainers'] as const) {
    const rendered = key === 'containers' ? parts.containers : parts.initContainers;
    for (const [j, c] of rendered.entries()) {
      const list = asList(spec[key]);
      const at = list.findIndex((x) => isObj(x) && x.name === c.name);
      if (at < 0) continue;
      const own = list[at];
      const overlay: Obj = { ...own };
      if (overlay.image === 'auto') delete overlay.image;
      recorded[key].push(overlay);
      rendered[j] = mergeContainer(mergeContainer(own, c), overlay);
      spec[key] = [...list.slice(0, at), ...list.slice(at + 1)];
      if (c.name === PROXY) exemptProxyUid(overlay, parts);
    }
  }
  const parts_ = (['containers', 'initContainers'] as const).filter((k) => recorded[k].length);
  if (parts_.length === 0) return undefined;
  return `{${parts_.map((k) => `"${k}":[${recorded[k].map(goContainerJson).join(',')}]`).join(',')}}`;
}

/** iptables must exempt the uid the proxy really runs as. */
function exemptProxyUid(custom: Obj, parts: SidecarParts): void {
  const uid = isObj(custom.securityContext) ? custom.securityContext.runAsUser : undefined;
  const init = parts.initContainers.find((c) => c.name === INIT || c.name === VALIDATION);
  if (typeof uid === 'number' && uid !== 0 && init && Array.isArray(init.args)) {
    const args = init.args as string[];
    const u = args.indexOf('-u');
    if (u >= 0) args[u + 1] = String(uid);
  }
}

/** One pod template inside a workload: where its metadata lives and what it says. */
export interface PodTarget {
  /** The metadata object labels and annotations are written to (a CronJob's is its jobTemplate's). */
  meta: Obj;
  /** Labels and annotations the injector reads (for a CronJob, jobTemplate's overlaid by the pod template's). */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: Obj;
  workload: WorkloadRef;
}

export type InjectOutcome =
  | { injected: true }
  | { injected: false; reason: 'hostNetwork' | 'disabled' | 'already-injected' | 'never-inject-selector' };

/** Injects the sidecar into one pod template, in place. Throws InjectError for bad annotations. */
export function injectPod(target: PodTarget, settings: InjectSettings): InjectOutcome {
  const { annotations, labels, spec } = target;
  if (spec.hostNetwork === true) return { injected: false, reason: 'hostNetwork' };
  if (STATUS_ANNOTATION in annotations) return { injected: false, reason: 'already-injected' };
  const decision = injectDecision(labels, annotations, settings);
  if (decision !== 'inject') return { injected: false, reason: decision };

  validateAnnotations(annotations);
  const template = selectTemplate(annotations, settings);
  const { proxyConfig, proxyConfigSet } = proxyConfigFor(annotations, settings);
  const input: TemplateInput = { settings, labels, annotations, spec, workload: target.workload, proxyConfig, proxyConfigSet };
  const parts = RENDER[template](input);
  for (const c of [...parts.initContainers, ...parts.containers]) dropEmptyEnvValues(c);

  const overrides = applyOverrides(spec, parts);

  const meta = target.meta;
  const metaLabels = ensureStringMap(meta, 'labels');
  Object.assign(metaLabels, parts.labels);
  const metaAnnotations = ensureStringMap(meta, 'annotations');
  Object.assign(metaAnnotations, parts.annotations);

  if (parts.initContainers.length) spec.initContainers = mergeContainers(asList(spec.initContainers), parts.initContainers);
  if (parts.containers.length) spec.containers = mergeContainers(asList(spec.containers), parts.containers);
  spec.volumes = mergeNamed(asList(spec.volumes), parts.volumes);
  if (parts.imagePullSecrets.length) spec.imagePullSecrets = mergeNamed(asList(spec.imagePullSecrets), parts.imagePullSecrets);
  if (parts.podSecurityContext) spec.securityContext = deepMerge(isObj(spec.securityContext) ? spec.securityContext : {}, parts.podSecurityContext);

  const sidecar = findContainer(spec, PROXY);
  if (sidecar) overwriteClusterEnv(sidecar, settings, labels, metaLabels);
  applyPrometheusMerge(spec, metaAnnotations, settings, proxyConfig);
  applyProbeRewrite(spec, metaAnnotations, settings, proxyConfig);

  metaAnnotations[STATUS_ANNOTATION] = goJson({
    initContainers: names(parts.initContainers),
    containers: names(parts.containers),
    volumes: names(parts.volumes),
    imagePullSecrets: names(parts.imagePullSecrets),
    revision: settings.revision || 'default',
  });
  if (overrides) metaAnnotations[OVERRIDES_ANNOTATION] = overrides;
  const injected = settings.injectConfig.injectedAnnotations;
  if (isObj(injected)) for (const [k, v] of Object.entries(injected)) metaAnnotations[k] = String(v);

  reorder(spec, holdApplication({ proxyConfig, settings }));
  return { injected: true };
}

function names(list: Obj[]): string[] | null {
  return list.length ? list.map((c) => String(c.name)) : null;
}

export function asList(v: unknown): Obj[] {
  return Array.isArray(v) ? (v as Obj[]) : [];
}

function ensureStringMap(meta: Obj, key: string): Record<string, string> {
  if (!isObj(meta[key])) meta[key] = {};
  return meta[key] as Record<string, string>;
}

/** Strategic-merge of lists keyed by name: existing items keep their place, new ones are appended. */
export function mergeNamed(existing: Obj[], added: Obj[], merge: (a: Obj, b: Obj) => Obj = deepMerge): Obj[] {
  const out = existing.slice();
  for (const item of added) {
    const i = out.findIndex((e) => isObj(e) && e.name === item.name);
    if (i >= 0) out[i] = merge(out[i], item);
    else out.push(item);
  }
  return out;
}

/** Rendered containers into the pod's: a container the pod has already is merged (lists by their keys). */
function mergeContainers(existing: Obj[], added: Obj[]): Obj[] {
  return mergeNamed(existing, added, mergeContainer);
}

/** Go's EnvVar leaves an empty value out. */
function dropEmptyEnvValues(c: Obj): void {
  for (const e of asList(c.env)) if (isObj(e) && e.value === '') delete e.value;
}

export function findContainer(spec: Obj, name: string): Obj | undefined {
  for (const key of ['containers', 'initContainers']) {
    const found = asList(spec[key]).find((c) => isObj(c) && c.name === name);
    if (found) return found;
  }
  return undefined;
}

/** Go's strconv.ParseBool. */
export function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** The label sidecar.istio.io/inject beats the annotation; then neverInjectSelector; kube-inject's policy is "enabled". */
function injectDecision(labels: Record<string, string>, annotations: Record<string, string>, settings: InjectSettings): 'inject' | 'disabled' | 'never-inject-selector' {
  const explicit = labels['sidecar.istio.io/inject'] ?? annotations['sidecar.istio.io/inject'] ?? '';
  const v = explicit.toLowerCase();
  if (['y', 'yes', 'true', 'on'].includes(v)) return 'inject';
  if (v !== '') return 'disabled';
  for (const sel of asList(settings.injectConfig.neverInjectSelector)) {
    if (selectorMatches(sel, labels)) return 'never-inject-selector';
  }
  return 'inject';
}

/** A metav1.LabelSelector; an empty selector matches nothing here, as in Istio. */
export function selectorMatches(sel: Obj, labels: Record<string, string>): boolean {
  const ml = isObj(sel.matchLabels) ? sel.matchLabels : {};
  if (Object.keys(ml).length === 0 && asList(sel.matchExpressions).length === 0) return false;
  return labelSelectorMatches(sel, labels);
}

const RENDER: Record<TemplateName, (input: TemplateInput) => SidecarParts> = {
  sidecar: renderSidecar,
  gateway: renderGateway,
  'grpc-agent': renderGrpcAgent,
  'grpc-simple': renderGrpcSimple,
};
export type TemplateName = 'sidecar' | 'gateway' | 'grpc-agent' | 'grpc-simple';

/** The template inject.istio.io/templates (else the injector's defaultTemplates) asks for, aliases resolved. */
export function selectTemplate(annotations: Record<string, string>, settings: InjectSettings): TemplateName {
  const aliases = isObj(settings.injectConfig.aliases) ? settings.injectConfig.aliases : {};
  const requested = annotations['inject.istio.io/templates'];
  const list = requested !== undefined ? requested.split(',').map((s) => s.trim()) : asList(settings.injectConfig.defaultTemplates).map(String);
  const expanded = list.flatMap((n) => (Array.isArray(aliases[n]) ? (aliases[n] as unknown[]).map(String) : [n]));
  const unsupported = expanded.filter((n) => !(n in RENDER));
  if (unsupported.length) {
    throw new InjectError(
      `injection template ${unsupported.map((n) => `"${n}"`).join(', ')} is not supported (meshctl renders Istio's ${Object.keys(RENDER).map((n) => `"${n}"`).join(', ')} templates)`,
    );
  }
  if (expanded.length !== 1) {
    throw new InjectError(`injection templates ${expanded.map((n) => `"${n}"`).join(', ')}: meshctl renders one template at a time`);
  }
  return expanded[0] as TemplateName;
}

/** The mesh's defaultConfig with the pod's proxy.istio.io/config annotation applied. */
function proxyConfigFor(annotations: Record<string, string>, settings: InjectSettings): { proxyConfig: Obj; proxyConfigSet: Obj } {
  const base = isObj(settings.mesh.defaultConfig) ? settings.mesh.defaultConfig : {};
  let set: Obj = base;
  const raw = annotations['proxy.istio.io/config'];
  if (raw !== undefined && raw.trim() !== '') {
    const parsed = yaml.load(raw) as unknown; // validated already
    if (isObj(parsed)) set = deepMerge(base, parsed);
  }
  return { proxyConfig: { ...PROXY_CONFIG_DEFAULTS, ...set }, proxyConfigSet: set };
}

/** A cluster name or network from the values is written last, as the webhook's cluster-info override does. */
function overwriteClusterEnv(sidecar: Obj, settings: InjectSettings, podLabels: Record<string, string>, metaLabels: Record<string, string>): void {
  const envs: Record<string, string> = {};
  const cluster = String(get(settings.values, 'global.multiCluster.clusterName') ?? '');
  let network = String(get(settings.values, 'global.network') ?? '');
  if (podLabels['topology.istio.io/network'] !== undefined) network = podLabels['topology.istio.io/network'];
  if (cluster) envs.ISTIO_META_CLUSTER_ID = cluster;
  if (network) {
    envs.ISTIO_META_NETWORK = network;
    metaLabels['topology.istio.io/network'] = network;
  }
  if (Object.keys(envs).length === 0) return;
  const env = asList(sidecar.env).filter((e) => !(isObj(e) && String(e.name) in envs));
  for (const k of Object.keys(envs).sort()) env.push({ name: k, value: envs[k] });
  sidecar.env = env;
}

const sanitize = (k: string): string => k.replace(/[^a-zA-Z0-9_]/g, '_');
export const SCRAPE_TARGETS = 'prometheus.istio.io/scrape-targets';

/** `8080:/metrics,9100:/custom-metrics` as the agent reads it: port, then the path after the first colon. */
export function scrapeTargets(raw: string | undefined): { port: string; path: string }[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const t = entry.trim();
    const colon = t.indexOf(':');
    const port = colon < 0 ? t : t.slice(0, colon);
    const n = Number(port);
    if (!/^\d+$/.test(port) || n < 1 || n > 65535) {
      throw new InjectError(`annotation ${SCRAPE_TARGETS}: ${JSON.stringify(t)} is not port[:path] with a port number (1-65535)`);
    }
    return { port, path: colon < 0 ? '' : t.slice(colon + 1) };
  });
}
const PROM = { scrape: 'prometheus_io_scrape', path: 'prometheus_io_path', port: 'prometheus_io_port' } as const;

/** The agent's status port: the proxy config's (mesh defaultConfig with the pod's proxy.istio.io/config). */
function meshStatusPort(proxyConfig: Obj): number {
  const p = proxyConfig.statusPort;
  return typeof p === 'number' && p > 0 ? p : PROXY_CONFIG_DEFAULTS.statusPort;
}

/** Metrics merging: the app's prometheus.io annotations move into the agent's env; Prometheus scrapes the agent. */
function applyPrometheusMerge(spec: Obj, annotations: Record<string, string>, settings: InjectSettings, proxyConfig: Obj): void {
  let scrape = true;
  for (const [k, v] of Object.entries(annotations)) {
    if (sanitize(k) === PROM.scrape && parseBool(v) !== undefined) scrape = parseBool(v)!;
  }
  const override = parseBool(annotations['prometheus.istio.io/merge-metrics']);
  const enabled = override ?? settings.mesh.enablePrometheusMerge !== false;
  if (!scrape || !enabled) return;
  const target = String(meshStatusPort(proxyConfig));
  const cfg = { scrape: '', path: '', port: '' };
  let hasPort = false;
  for (const [k, v] of Object.entries(annotations)) {
    const s = sanitize(k);
    if (s === PROM.port) {
      cfg.port = v;
      hasPort = true;
    } else if (s === PROM.scrape) cfg.scrape = v;
    else if (s === PROM.path) cfg.path = v;
  }
  if (hasPort && cfg.port === target) return;
  // several scrape targets (port:path,...): the agent scrapes them all; the first is the primary one
  const targets = scrapeTargets(annotations[SCRAPE_TARGETS]);
  const full: Obj = { ...cfg };
  if (targets.length) {
    if (!full.port) full.port = targets[0].port;
    if (!full.path) full.path = targets[0].path;
    full.targets = targets;
  }
  const sidecar = findContainer(spec, PROXY);
  if (sidecar && (cfg.scrape || cfg.path || cfg.port || targets.length)) {
    sidecar.env = [...asList(sidecar.env), { name: PROMETHEUS_ENV, value: goJson(full) }];
  }
  delete annotations[SCRAPE_TARGETS];
  for (const k of Object.keys(annotations)) if (Object.values(PROM).includes(sanitize(k) as never)) delete annotations[k];
  annotations['prometheus.io/port'] = target;
  annotations['prometheus.io/path'] = '/stats/prometheus';
  annotations['prometheus.io/scrape'] = 'true';
}

type ProbeKind = 'readinessProbe' | 'livenessProbe' | 'startupProbe';
/** The agent's URLs for a container's probes and lifecycle hooks (pilot-agent's FormatProberURL). */
export const PROBE_URL: Record<ProbeKind | 'preStop' | 'postStart', (container: string) => string> = {
  readinessProbe: (c) => `/app-health/${c}/readyz`,
  livenessProbe: (c) => `/app-health/${c}/livez`,
  startupProbe: (c) => `/app-health/${c}/startupz`,
  preStop: (c) => `/app-lifecycle/${c}/prestopz`,
  postStart: (c) => `/app-lifecycle/${c}/poststartz`,
};

/** Whether the sidecar captures inbound traffic to a port (include/excludeInboundPorts). */
function capturedPort(annotations: Record<string, string>): (port: number) => boolean {
  const list = (v: string) => new Set(v.split(',').map((p) => Number(p.trim())));
  const include = annotations['traffic.sidecar.istio.io/includeInboundPorts'];
  if (include !== undefined && include !== '') {
    if (include.trim() === '*') return () => true;
    const included = list(include);
    return (p) => included.has(p);
  }
  const exclude = annotations['traffic.sidecar.istio.io/excludeInboundPorts'];
  if (exclude === undefined || exclude === '') return () => true;
  const excluded = list(exclude);
  return (p) => !excluded.has(p);
}

/** Resolves a probe's port (a number or a container port's name) to a number. */
function resolvePort(port: unknown, container: Obj): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port !== 'string') return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  const named = asList(container.ports).find((p) => isObj(p) && p.name === port);
  return named && typeof named.containerPort === 'number' ? named.containerPort : undefined;
}

/** An action in Go's field order (HTTPGetAction: path, port, host, scheme, httpHeaders). */
function orderedAction(action: Obj, order: string[], port: number): Obj {
  const out: Obj = {};
  for (const k of order) {
    if (k === 'port') out.port = port;
    else if (action[k] !== undefined) out[k] = action[k];
  }
  for (const k of Object.keys(action)) if (!(k in out)) out[k] = action[k];
  return out;
}

/**
 * Probe rewriting: kubelet cannot reach the app through mTLS, so its HTTP/TCP/gRPC probes go to the
 * agent on the status port, which runs the original probes listed in ISTIO_KUBE_APP_PROBERS.
 */
function applyProbeRewrite(spec: Obj, annotations: Record<string, string>, settings: InjectSettings, proxyConfig: Obj): void {
  const sidecar = findContainer(spec, PROXY);
  if (!sidecar) return;
  const setting = get(settings.values, 'sidecarInjectorWebhook.rewriteAppHTTPProbe') !== false;
  const rewrite = parseBool(annotations['sidecar.istio.io/rewriteAppHTTPProbers']) ?? setting;
  if (!rewrite) return;
  const statusPortText = annotations['status.sidecar.istio.io/port'];
  const statusPort = statusPortText !== undefined ? Number(statusPortText) : meshStatusPort(proxyConfig);
  const captured = capturedPort(annotations);
  const probers: Record<string, Obj> = {};

  const convert = (handler: unknown, url: string, container: Obj, isProbe: boolean): Obj | undefined => {
    if (!isObj(handler)) return undefined;
    let prober: Obj;
    let port: number | undefined;
    if (isObj(handler.httpGet)) {
      port = resolvePort(handler.httpGet.port, container);
      if (port === undefined) return undefined;
      prober = { httpGet: orderedAction(handler.httpGet, ['path', 'port', 'host', 'scheme', 'httpHeaders'], port) };
    } else if (isObj(handler.tcpSocket)) {
      port = resolvePort(handler.tcpSocket.port, container);
      if (port === undefined) return undefined;
      prober = { tcpSocket: orderedAction(handler.tcpSocket, ['port', 'host'], port) };
    } else if (isProbe && isObj(handler.grpc)) {
      port = resolvePort(handler.grpc.port, container);
      if (port === undefined) return undefined;
      prober = { grpc: orderedAction(handler.grpc, ['port', 'service'], port) };
    } else return undefined;
    if (!captured(port)) return undefined;
    if (isProbe && typeof handler.timeoutSeconds === 'number' && handler.timeoutSeconds !== 0) prober.timeoutSeconds = handler.timeoutSeconds;
    probers[url] = prober;
    const out: Obj = { ...handler };
    const httpGet: Obj = isObj(handler.httpGet) ? { ...handler.httpGet } : {};
    httpGet.path = url;
    httpGet.port = statusPort;
    if (httpGet.scheme === 'HTTPS') httpGet.scheme = 'HTTP';
    delete out.tcpSocket;
    delete out.grpc;
    out.httpGet = orderedAction(httpGet, ['path', 'port', 'host', 'scheme', 'httpHeaders'], statusPort);
    return out;
  };

  for (const key of ['initContainers', 'containers']) {
    for (const c of asList(spec[key])) {
      if (!isObj(c) || c.name === PROXY) continue;
      const name = String(c.name);
      for (const kind of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
        const next = convert(c[kind], PROBE_URL[kind](name), c, true);
        if (next) c[kind] = next;
      }
      if (isObj(c.lifecycle)) {
        for (const hook of ['preStop', 'postStart'] as const) {
          const next = convert(c.lifecycle[hook], PROBE_URL[hook](name), c, false);
          if (next) c.lifecycle[hook] = next;
        }
      }
    }
  }
  if (Object.keys(probers).length === 0) return;
  const sorted: Record<string, Obj> = {};
  for (const k of Object.keys(probers).sort()) sorted[k] = probers[k];
  sidecar.env = [...asList(sidecar.env), { name: PROBERS_ENV, value: goJson(sorted) }];
}

/**
 * Native sidecars: istio-init (or istio-validation) first, then the proxy, then the user's init
 * containers. Classic sidecars: iptables last among init containers so it cannot blackhole them, the
 * proxy last among containers (first when the app must wait for it).
 */
function reorder(spec: Obj, holdProxy: boolean): void {
  const move = (list: Obj[], name: string, first: boolean): Obj[] => {
    const i = list.findIndex((c) => isObj(c) && c.name === name);
    if (i < 0) return list;
    const rest = [...list.slice(0, i), ...list.slice(i + 1)];
    return first ? [list[i], ...rest] : [...rest, list[i]];
  };
  let init = asList(spec.initContainers);
  if (init.some((c) => isObj(c) && c.name === PROXY)) {
    for (const name of [CORE_DUMP, PROXY, VALIDATION, INIT]) init = move(init, name, true);
  } else {
    init = move(init, VALIDATION, true);
    init = move(init, INIT, false);
    init = move(init, CORE_DUMP, false);
  }
  if (init.length || spec.initContainers !== undefined) spec.initContainers = init;
  if (Array.isArray(spec.containers)) spec.containers = move(asList(spec.containers), PROXY, holdProxy);
}
