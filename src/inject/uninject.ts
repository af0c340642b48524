import { type Obj, InjectError, isObj } from './config.js';
import { OVERRIDES_ANNOTATION, PROBERS_ENV, PROBE_URL, PROMETHEUS_ENV, SCRAPE_TARGETS, STATUS_ANNOTATION, type PodTarget, asList, findContainer } from './pod.js';
import { PROXY, VALIDATION, appContainerNames } from './template.js';

interface Status {
  initContainers: string[];
  containers: string[];
  volumes: string[];
  imagePullSecrets: string[];
  revision: string;
}

function parseStatus(raw: string): Status {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InjectError(`annotation ${STATUS_ANNOTATION} is not valid JSON, so what was injected is unknown`);
  }
  if (!isObj(parsed)) throw new InjectError(`annotation ${STATUS_ANNOTATION} is not a JSON object`);
  const list = (k: string) => (Array.isArray(parsed[k]) ? (parsed[k] as unknown[]).map(String) : []);
  return {
    initContainers: list('initContainers'),
    containers: list('containers'),
    volumes: list('volumes'),
    imagePullSecrets: list('imagePullSecrets'),
    revision: typeof parsed.revision === 'string' ? parsed.revision : '',
  };
}

function envValue(container: Obj | undefined, name: string): string | undefined {
  const e = asList(container?.env).find((x) => isObj(x) && x.name === name);
  return e && typeof e.value === 'string' ? e.value : undefined;
}

function removeNamed(spec: Obj, key: string, names: string[]): void {
  if (!Array.isArray(spec[key])) return;
  const kept = (spec[key] as unknown[]).filter((c) => !(isObj(c) && names.includes(String(c.name))));
  if (kept.length) spec[key] = kept;
  else delete spec[key];
}

const isEmpty = (v: unknown): boolean => isObj(v) && Object.keys(v).length === 0;
const allZero = (v: unknown): boolean => isObj(v) && Object.values(v).every((x) => x === 0);

/**
 * Takes out what injection added (the status annotation lists it), restores rewritten probes and
 * prometheus annotations, and drops labels/annotations that only repeat what Istio would derive.
 */
export function uninjectPod(target: PodTarget, doc: Obj): boolean {
  const meta = target.meta;
  const annotations = isObj(meta.annotations) ? (meta.annotations as Record<string, string>) : undefined;
  const raw = annotations?.[STATUS_ANNOTATION];
  if (raw === undefined) return false;
  const status = parseStatus(raw);
  const spec = target.spec;
  const sidecar = findContainer(spec, PROXY);
  const probers = envValue(sidecar, PROBERS_ENV);
  const prometheus = envValue(sidecar, PROMETHEUS_ENV);

  removeNamed(spec, 'initContainers', status.initContainers);
  removeNamed(spec, 'containers', status.containers);
  removeNamed(spec, 'volumes', status.volumes);
  removeNamed(spec, 'imagePullSecrets', status.imagePullSecrets);
  if (probers !== undefined) restoreProbes(spec, probers);
  restoreOverrides(spec, annotations!);

  const a = annotations!;
  delete a[STATUS_ANNOTATION];
  if (a['istio.io/rev'] === (status.revision || 'default')) delete a['istio.io/rev'];
  const apps = appContainerNames(spec);
  for (const k of ['kubectl.kubernetes.io/default-container', 'kubectl.kubernetes.io/default-logs-container']) {
    if (a[k] !== undefined && a[k] === apps[0]) delete a[k];
  }
  if (status.initContainers.includes(VALIDATION)) {
    // with CNI the injector records its traffic settings as annotations; drop those that are the defaults
    const defaults: Record<string, string> = {
      'sidecar.istio.io/interceptionMode': 'REDIRECT',
      'traffic.sidecar.istio.io/includeOutboundIPRanges': '*',
      'traffic.sidecar.istio.io/includeInboundPorts': '*',
      'traffic.sidecar.istio.io/excludeInboundPorts': '15020',
    };
    for (const [k, v] of Object.entries(defaults)) if (a[k] === v) delete a[k];
  }
  const injectedProm = a['prometheus.io/path'] === '/stats/prometheus' && a['prometheus.io/scrape'] === 'true';
  if (injectedProm) {
    for (const k of ['prometheus.io/port', 'prometheus.io/path', 'prometheus.io/scrape']) delete a[k];
    if (prometheus !== undefined) restorePrometheus(a, prometheus);
  }
  const template = a['inject.istio.io/templates'];
  // what a template writes on the pod for itself
  if (template === 'grpc-agent' && a['sidecar.istio.io/rewriteAppHTTPProbers'] === 'false') delete a['sidecar.istio.io/rewriteAppHTTPProbers'];
  if (template === 'gateway' && isObj(spec.securityContext)) dropGatewaySysctl(spec);

  if (isObj(meta.labels)) {
    const l = meta.labels as Record<string, string>;
    if (l['security.istio.io/tlsMode'] === 'istio') delete l['security.istio.io/tlsMode'];
    if (l['service.istio.io/canonical-name'] === (l['app.kubernetes.io/name'] || l.app || target.workload.name)) {
      delete l['service.istio.io/canonical-name'];
    }
    if (l['service.istio.io/canonical-revision'] === (l['app.kubernetes.io/version'] || l.version || 'latest')) {
      delete l['service.istio.io/canonical-revision'];
    }
    if (isEmpty(l)) delete meta.labels;
  }
  if (isEmpty(a)) delete meta.annotations;
  removeGoZeroFields(doc, spec);
  return true;
}

/**
 * The user's prometheus.io annotations from the agent's copy. With several scrape targets, the port and
 * path the injector filled in from the first target are left out, and the targets annotation comes back.
 */
function restorePrometheus(a: Record<string, string>, raw: string): void {
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return; // an unreadable copy of the user's annotations: nothing to restore
  }
  const targets = Array.isArray(cfg.targets) ? (cfg.targets as { port?: unknown; path?: unknown }[]) : [];
  const first = targets[0];
  for (const k of ['scrape', 'path', 'port'] as const) {
    const v = cfg[k];
    if (typeof v !== 'string' || v === '') continue;
    if (first && (k === 'port' || k === 'path') && v === first[k] && !(k === 'path' && cfg.port !== first.port)) continue;
    a[`prometheus.io/${k}`] = v;
  }
  if (targets.length) a[SCRAPE_TARGETS] = targets.map((t) => (t.path ? `${String(t.port)}:${String(t.path)}` : String(t.port))).join(',');
}

/** The gateway template lets the pod bind low ports; a pod securityContext holding only that came from it. */
function dropGatewaySysctl(spec: Obj): void {
  const sc = spec.securityContext as Obj;
  const sysctls = asList(sc.sysctls).filter((x) => !(isObj(x) && x.name === 'net.ipv4.ip_unprivileged_port_start' && x.value === '0'));
  if (sysctls.length) sc.sysctls = sysctls;
  else delete sc.sysctls;
  if (isEmpty(sc)) delete spec.securityContext;
}

/** A customised container the user wrote goes back to the list Istio keeps it in (image "auto" restored). */
function restoreOverrides(spec: Obj, annotations: Record<string, string>): void {
  const raw = annotations[OVERRIDES_ANNOTATION];
  if (raw === undefined) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InjectError(`annotation ${OVERRIDES_ANNOTATION} is not valid JSON`);
  }
  delete annotations[OVERRIDES_ANNOTATION];
  if (!isObj(parsed)) return;
  for (const key of ['containers', 'initContainers']) {
    const items = asList(parsed[key]).map((c) => (isObj(c) && c.name === PROXY && c.image === undefined ? { ...c, image: 'auto' } : c));
    if (items.length) spec[key] = [...asList(spec[key]), ...items];
  }
}

/** Puts back the probes the agent was running for the app (ISTIO_KUBE_APP_PROBERS). */
function restoreProbes(spec: Obj, raw: string): void {
  let probers: Record<string, unknown>;
  try {
    probers = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new InjectError(`the sidecar's ${PROBERS_ENV} is not valid JSON, so the original probes cannot be restored`);
  }
  const restore = (handler: unknown, url: string): void => {
    if (!isObj(handler) || !isObj(handler.httpGet) || handler.httpGet.path !== url) return;
    const p = probers[url];
    if (!isObj(p)) return;
    delete handler.httpGet;
    for (const k of ['httpGet', 'tcpSocket', 'grpc']) if (isObj(p[k])) handler[k] = p[k];
  };
  for (const key of ['initContainers', 'containers']) {
    for (const c of asList(spec[key])) {
      const name = String(c.name);
      for (const kind of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) restore(c[kind], PROBE_URL[kind](name));
      if (isObj(c.lifecycle)) {
        for (const hook of ['preStop', 'postStart'] as const) {
          restore(c.lifecycle[hook], PROBE_URL[hook](name));
          // injected before Istio moved lifecycle hooks to /app-lifecycle
          restore(c.lifecycle[hook], `/app-health/${name}/${hook === 'preStop' ? 'prestopz' : 'poststartz'}`);
        }
      }
    }
  }
}

/** Drops the empty fields injection's Go-style output added (see addGoZeroFields). */
function removeGoZeroFields(doc: Obj, spec: Obj): void {
  for (const key of ['initContainers', 'containers']) {
    for (const c of asList(spec[key])) if (isEmpty(c.resources)) delete c.resources;
  }
  if (isEmpty(doc.status) || allZero(doc.status)) delete doc.status;
  const s = isObj(doc.spec) ? doc.spec : undefined;
  if (s) {
    for (const k of ['strategy', 'updateStrategy']) if (isEmpty(s[k])) delete s[k];
    const templates: Obj[] = [];
    if (isObj(s.template)) templates.push(s.template);
    if (isObj(s.jobTemplate)) {
      templates.push(s.jobTemplate);
      if (isObj(s.jobTemplate.spec) && isObj(s.jobTemplate.spec.template)) templates.push(s.jobTemplate.spec.template);
    }
    for (const t of templates) if (isEmpty(t.metadata)) delete t.metadata;
  }
}
