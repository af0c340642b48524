import { type Obj, InjectError, isObj } from './config.js';
import { OVERRIDES_ANNOTATION, PROBERS_ENV, PROMETHEUS_ENV, STATUS_ANNOTATION, type PodTarget, asList, findContainer } from './pod.js';
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
    if (prometheus !== undefined) {
      try {
        const cfg = JSON.parse(prometheus) as Record<string, string>;
        for (const k of ['scrape', 'path', 'port']) if (cfg[k]) a[`prometheus.io/${k}`] = cfg[k];
      } catch {
        // an unreadable copy of the user's annotations: nothing to restore
      }
    }
  }

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

/** A customised istio-proxy container the user wrote goes back where it was written. */
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
    const items = asList(parsed[key]);
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
      const base = `/app-health/${String(c.name)}/`;
      restore(c.readinessProbe, base + 'readyz');
      restore(c.livenessProbe, base + 'livez');
      restore(c.startupProbe, base + 'startupz');
      if (isObj(c.lifecycle)) {
        restore(c.lifecycle.preStop, base + 'prestopz');
        restore(c.lifecycle.postStart, base + 'poststartz');
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
