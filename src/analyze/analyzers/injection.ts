import yaml from 'js-yaml';
import type { Resource } from '../../resources/index.js';
import { fullName, type Analyzer, type Context } from '../analyzer.js';
import { K, arr, obj, str, strMap, type Snapshot } from '../snapshot.js';
import { injectionWebhooks, webhookSelects } from './webhooks.js';
import { isSystemNamespace } from './kubernetes.js';

const INJECTOR_CONFIGMAP = 'istio-sidecar-injector';

/** The injector ConfigMap of a revision: `istio-sidecar-injector`, or `istio-sidecar-injector-<rev>`. */
function injectorConfigMapName(revision: string): string {
  return revision === '' || revision === 'default' ? INJECTOR_CONFIGMAP : `${INJECTOR_CONFIGMAP}-${revision}`;
}

const injectorValues = new WeakMap<Resource, Record<string, unknown> | undefined>();

/** The injector ConfigMap's `values` (JSON), or undefined when it cannot be read. */
function valuesOf(cm: Resource): Record<string, unknown> | undefined {
  if (injectorValues.has(cm)) return injectorValues.get(cm);
  let values: Record<string, unknown> | undefined;
  try {
    const v: unknown = JSON.parse(str(obj(cm.object.data).values));
    values = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    values = undefined;
  }
  injectorValues.set(cm, values);
  return values;
}

/** Injector ConfigMaps by name (any namespace; the first of a name wins, as istioctl's scan finds it). */
function injectorConfigMaps(snap: Snapshot): Map<string, Resource> {
  const out = new Map<string, Resource>();
  for (const cm of snap.of(K.ConfigMap)) if (cm.name.startsWith(INJECTOR_CONFIGMAP) && !out.has(cm.name)) out.set(cm.name, cm);
  return out;
}

export const injectionAnalyzer: Analyzer = {
  name: 'injection.Analyzer',
  description: 'Checks conditions related to Istio sidecar injection',
  codes: ['IST0102', 'IST0103', 'IST0123', 'IST0148'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    const namespaces = snap.of(K.Namespace);
    if (namespaces.length === 0) return;
    // sidecarInjectorWebhook.enableNamespacesByDefault: unlabelled namespaces are injected
    const cm = injectorConfigMaps(snap).get(injectorConfigMapName(''));
    const byDefault = cm !== undefined && obj(valuesOf(cm)?.sidecarInjectorWebhook).enableNamespacesByDefault === true;
    const injected = new Set<string>();
    for (const ns of namespaces) {
      if (ns.name === 'istio-system' || ns.name === snap.rootNamespace || isSystemNamespace(ns.name)) continue;
      const labels = strMap(ns.metadata.labels);
      const legacy = labels['istio-injection'];
      const hasRev = 'istio.io/rev' in labels;
      const ambient = labels['istio.io/dataplane-mode'] === 'ambient';
      // the ways a namespace can opt in; an explicit istio-injection=disabled opts out and conflicts with nothing
      const optIns = [
        ...(legacy && legacy !== 'disabled' ? ['istio-injection'] : []),
        ...(hasRev ? ['istio.io/rev'] : []),
        ...(ambient ? ['istio.io/dataplane-mode'] : []),
      ];
      if (optIns.length > 1) {
        ctx.report(ns, 'IST0123', [optIns], ['metadata', 'name']);
        continue;
      }
      if (ambient) continue; // in the mesh without sidecars
      if (!legacy && !hasRev) {
        if (byDefault) ctx.report(ns, 'IST0148', [], ['metadata', 'name']);
        else ctx.report(ns, 'IST0102', [ns.name, ns.name], ['metadata', 'name']);
        continue;
      }
      if (!hasRev && legacy !== 'enabled') continue;
      injected.add(ns.name);
    }
    for (const pod of snap.of(K.Pod)) {
      if (!injected.has(pod.namespace)) continue;
      const inject = strMap(pod.metadata.labels)['sidecar.istio.io/inject'] ?? strMap(pod.metadata.annotations)['sidecar.istio.io/inject'];
      if (inject?.toLowerCase() === 'false') continue;
      const spec = obj(pod.object.spec);
      if (spec.hostNetwork === true) continue;
      const containers = [...arr(spec.containers), ...arr(spec.initContainers)];
      if (!containers.some((c) => str(obj(c).name) === 'istio-proxy' && str(obj(c).image))) {
        ctx.report(pod, 'IST0103', [fullName(pod)]);
      }
    }
  },
};

/** The proxy image an injector ConfigMap puts in pods: global.proxy.image, prefixed by hub and tagged unless it names a registry. */
function injectorProxyImage(cm: Resource): string | undefined {
  const global = obj(valuesOf(cm)?.global);
  const image = str(obj(global.proxy).image);
  if (!image) return undefined; // nothing to compare against: say nothing rather than flag every pod
  return image.includes('/') ? image : `${str(global.hub)}/${image}:${str(global.tag)}`;
}

/** The `image.imageType` of a ProxyConfig-like object. */
function imageType(v: unknown): string {
  return str(obj(obj(v).image).imageType);
}

/**
 * The image type (variant) in effect for a pod, most specific last, as istioctl resolves it: mesh
 * config, ProxyConfig in the root namespace, in the pod's namespace, selecting the pod, then the pod's
 * proxy.istio.io/config annotation. `default` means none.
 */
function imageVariant(snap: Snapshot, pod: Resource): string {
  let variant = snap.options.proxyImageType ?? '';
  const labels = strMap(pod.metadata.labels);
  let nsLevel = '';
  let workload = '';
  for (const pc of snap.of(K.ProxyConfig)) {
    const t = imageType(pc.object.spec);
    if (!t) continue;
    const selector = obj(pc.object.spec).selector;
    if (pc.namespace === snap.rootNamespace) variant = t;
    else if (pc.namespace !== pod.namespace) continue;
    else if (selector === undefined) nsLevel = t;
    else if (Object.entries(strMap(obj(selector).matchLabels)).every(([k, v]) => labels[k] === v)) workload = t;
  }
  variant = workload || nsLevel || variant;
  const annotation = strMap(pod.metadata.annotations)['proxy.istio.io/config'];
  if (annotation) {
    try {
      const t = imageType(yaml.load(annotation));
      if (t) variant = t;
    } catch {
      // an unparseable annotation is reported by annotations.K8sAnalyzer's checks, not here
    }
  }
  return variant === 'default' ? '' : variant;
}

export const imageAnalyzer: Analyzer = {
  name: 'injection.ImageAnalyzer',
  description: 'Checks the image of auto-injection configured with the running proxies on pods',
  codes: ['IST0158'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    const configMaps = injectorConfigMaps(snap);
    if (configMaps.size === 0) return;
    const revisionOf = new Map<string, string>();
    for (const ns of snap.of(K.Namespace)) {
      const labels = strMap(ns.metadata.labels);
      if ('istio.io/rev' in labels) revisionOf.set(ns.name, labels['istio.io/rev']);
      else if (labels['istio-injection'] === 'enabled') revisionOf.set(ns.name, 'default');
    }
    const mismatched = new Map<string, string[]>();
    for (const pod of snap.of(K.Pod)) {
      const rev = revisionOf.get(pod.namespace);
      if (rev === undefined) continue;
      // a pod that names its own proxy image overrides the injector
      if (strMap(pod.metadata.annotations)['sidecar.istio.io/proxyImage']) continue;
      const cm = configMaps.get(injectorConfigMapName(rev));
      const expected = cm && injectorProxyImage(cm);
      if (!expected) continue;
      const spec = obj(pod.object.spec);
      for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
        if (str(obj(c).name) !== 'istio-proxy') continue;
        const image = str(obj(c).image);
        if (image === expected || image === `${expected}-${imageVariant(snap, pod)}`) continue;
        let pods = mismatched.get(pod.namespace);
        if (!pods) mismatched.set(pod.namespace, (pods = []));
        pods.push(pod.name);
      }
    }
    for (const [ns, pods] of mismatched) {
      const r = snap.get(K.Namespace, '', ns);
      if (r) ctx.report(r, 'IST0158', [pods], ['metadata', 'name']);
    }
  },
};

/** Index of the istio-proxy container whose image is `auto` (left for the injector to fill in), or -1. */
function autoImageContainer(spec: unknown): number {
  const containers = arr(obj(spec).containers);
  for (let i = 0; i < containers.length; i++) {
    const c = obj(containers[i]);
    if (c.name === 'istio-proxy' && c.image === 'auto') return i;
  }
  return -1;
}

export const imageAutoAnalyzer: Analyzer = {
  name: 'injection.ImageAutoAnalyzer',
  description: 'Makes sure that Pods and Deployments with `image: auto` are going to be injected',
  codes: ['IST0146', 'IST0147'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    // a pod already created with `image: auto` was not injected, whatever the webhooks say now
    for (const pod of snap.of(K.Pod)) {
      const i = autoImageContainer(pod.object.spec);
      if (i >= 0) ctx.report(pod, 'IST0147', ['Pod', pod.name], ['spec', 'containers', i, 'image']);
    }
    const deployments = snap.of(K.Deployment);
    if (deployments.length === 0) return;
    // partial input: the webhooks usually live in the cluster, not in the repository
    if (!snap.knows('webhooks')) return;
    const webhooks = injectionWebhooks(snap);
    for (const d of deployments) {
      const tpl = obj(obj(d.object.spec).template);
      const i = autoImageContainer(tpl.spec);
      if (i < 0) continue;
      const ns = snap.get(K.Namespace, '', d.namespace);
      if (!ns && !snap.knows('namespaces', d.namespace)) continue; // partial input: its namespace's labels are unknown
      // the API server labels every namespace with its name
      const nsLabels = { ...strMap(ns?.metadata.labels), 'kubernetes.io/metadata.name': d.namespace };
      const podLabels = strMap(obj(tpl.metadata).labels);
      if (webhooks.some((w) => webhookSelects(w.namespaceSelector, nsLabels) && webhookSelects(w.objectSelector, podLabels))) continue;
      ctx.report(d, 'IST0146', ['Deployment', d.name], ['spec', 'template', 'spec', 'containers', i, 'image']);
    }
  },
};
