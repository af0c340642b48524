import { ambientEnrollment } from '../ambient/enrollment.js';
import { gatewayNameOf, isWaypointPod } from '../authz/select.js';
import type { Container, Namespace, Pod } from './objects.js';
import { kname, namespaceOf, nameOf } from './objects.js';

export const PROXY_CONTAINER = 'istio-proxy';

export interface PodPort {
  port: number;
  protocol: string;
  container: string;
  name?: string;
}

export interface SidecarFacts {
  injected: boolean;
  /** Injected as a native sidecar (init container with restartPolicy Always). */
  native?: boolean;
  ready?: boolean;
  image?: string;
  /** Proxy version from the image tag, or from Envoy's node metadata when a config dump is given. */
  version?: string;
  /** Where the proxy gets its configuration (istiod's address), from the injected proxy config. */
  discoveryAddress?: string;
  /** Live mode: the istiod replica serving the proxy and each xDS type's sync state (proxy-status's words). */
  connectedTo?: string;
  sync?: Record<string, string>;
}

export interface PodFacts {
  name: string;
  namespace: string;
  phase?: string;
  ip?: string;
  revision?: string;
  labels: Record<string, string>;
  ports: PodPort[];
  containers: { name: string; ready?: boolean; restarts?: number }[];
  sidecar: SidecarFacts;
  /** Enrolled in ambient mode: ztunnel, not a sidecar, carries its traffic. */
  ambient?: boolean;
  /** A waypoint's own pod: the Gateway (`namespace/name`) whose proxy it runs; its istio-proxy is no sidecar. */
  waypointOf?: string;
  warnings: string[];
  suggestions: string[];
}

/** The pod and its containers as the mesh sees them; `currentNs` only shortens names in messages. */
export function podFacts(pod: Pod, namespaces: Namespace[], currentNs: string): PodFacts {
  const name = nameOf(pod);
  const ns = namespaceOf(pod);
  const kn = kname(pod, currentNs);
  const warnings: string[] = [];
  const suggestions: string[] = [];
  const containers = pod.spec?.containers ?? [];
  const inits = pod.spec?.initContainers ?? [];
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];

  const ports: PodPort[] = [];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (p.containerPort === undefined) continue;
      const pp: PodPort = { port: p.containerPort, protocol: p.protocol ?? 'TCP', container: c.name ?? '' };
      if (p.name) pp.name = p.name;
      ports.push(pp);
    }
    if (c.name !== PROXY_CONTAINER && c.securityContext?.runAsUser === 1337) {
      warnings.push(`container ${c.name} runs as UID 1337, which is reserved for the sidecar proxy: its traffic bypasses the proxy`);
    }
  }

  const proxyMain = containers.find((c) => c.name === PROXY_CONTAINER);
  const proxyNative = inits.find((c) => c.name === PROXY_CONTAINER && c.restartPolicy === 'Always');
  const proxy = proxyMain ?? proxyNative;
  const sidecar: SidecarFacts = { injected: Boolean(proxy) };
  if (proxy) {
    if (proxyNative && !proxyMain) sidecar.native = true;
    if (proxy.image) {
      sidecar.image = proxy.image;
      const v = imageTag(proxy.image);
      if (v) sidecar.version = v;
    }
    const discovery = discoveryAddress(proxy);
    if (discovery) sidecar.discoveryAddress = discovery;
    const st = statuses.find((s) => s.name === PROXY_CONTAINER);
    if (st) sidecar.ready = Boolean(st.ready);
  }

  const containerFacts = containers.map((c) => {
    const st = statuses.find((s) => s.name === c.name);
    const out: PodFacts['containers'][number] = { name: c.name ?? '' };
    if (st) {
      out.ready = Boolean(st.ready);
      if (st.restartCount !== undefined) out.restarts = st.restartCount;
    }
    return out;
  });

  const phase = pod.status?.phase;
  if (phase && phase !== 'Running') warnings.push(`pod ${kn} is not Running (${phase})`);
  else {
    for (const st of pod.status?.containerStatuses ?? []) if (!st.ready) warnings.push(`Pod ${kn} Container ${st.name} NOT READY`);
    for (const st of pod.status?.initContainerStatuses ?? []) {
      // a finished ordinary init container is "not ready" by design; only native sidecars must be ready
      const c = inits.find((i) => i.name === st.name);
      if (c?.restartPolicy === 'Always' && !st.ready) warnings.push(`Pod ${kn} Init Container ${st.name} NOT READY`);
    }
  }

  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  const revision = revisionOf(pod);
  const ambient = !proxy && ambientEnrollment(pod, namespaces).enrolled === true;
  const gateway = gatewayNameOf(labels);
  const waypointOf = gateway !== undefined && isWaypointPod(labels) ? `${ns}/${gateway}` : undefined;
  if (ambient) {
    // ztunnel carries its traffic: no sidecar is expected
  } else if (!proxy) {
    const nsObj = namespaces.find((n) => nameOf(n) === ns);
    const nsLabels = nsObj?.metadata?.labels ?? {};
    const optOut = labels['sidecar.istio.io/inject'] === 'false' || annotations['sidecar.istio.io/inject'] === 'false';
    let why = '';
    if (optOut) why = ' (sidecar.istio.io/inject is "false")';
    else if (nsLabels['istio-injection'] === 'enabled' || nsLabels['istio.io/rev']) {
      why = ` although namespace ${ns} has injection enabled: the pod was probably created before, restart it`;
    } else if (nsObj) why = ` (namespace ${ns} has no istio-injection or istio.io/rev label)`;
    warnings.push(`${kn} is not part of mesh; no Istio sidecar${why}`);
  } else if (waypointOf) {
    // Istio deploys it (canonical-name and -revision labels from its waypoint template): nothing to suggest
  } else {
    if (pod.spec?.securityContext?.runAsUser === 1337) warnings.push('pod runs as UID 1337, which is reserved for the sidecar proxy');
    if (!labels['app.kubernetes.io/name'] && !labels.app && !labels['service.istio.io/canonical-name']) {
      suggestions.push('add required service name label for Istio telemetry (app or app.kubernetes.io/name)');
    }
    if (!labels['app.kubernetes.io/version'] && !labels.version && !labels['service.istio.io/canonical-revision']) {
      suggestions.push('add required service revision label for Istio telemetry (version or app.kubernetes.io/version)');
    }
  }

  const facts: PodFacts = { name, namespace: ns, labels, ports, containers: containerFacts, sidecar, warnings, suggestions };
  if (phase) facts.phase = phase;
  if (ambient) facts.ambient = true;
  if (waypointOf) facts.waypointOf = waypointOf;
  if (pod.status?.podIP) facts.ip = pod.status.podIP;
  if (revision) facts.revision = revision;
  return facts;
}

/** istio.io/rev label, else the revision recorded by the injector in sidecar.istio.io/status. */
export function revisionOf(pod: Pod): string | undefined {
  const rev = pod.metadata?.labels?.['istio.io/rev'] ?? pod.metadata?.annotations?.['istio.io/rev'];
  if (rev) return rev;
  const status = pod.metadata?.annotations?.['sidecar.istio.io/status'];
  if (!status) return undefined;
  try {
    const parsed = JSON.parse(status) as { revision?: unknown };
    return typeof parsed.revision === 'string' && parsed.revision ? parsed.revision : undefined;
  } catch {
    return undefined;
  }
}

/** `docker.io/istio/proxyv2:1.24.0-distroless` → `1.24.0-distroless`; digests and tagless images give nothing. */
function imageTag(image: string): string | undefined {
  const noDigest = image.split('@')[0];
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(colon + 1) : undefined;
}

/** istiod's address from the injected PROXY_CONFIG (discoveryAddress), else CA_ADDR. */
function discoveryAddress(c: Container): string | undefined {
  const env = c.env ?? [];
  const pc = env.find((e) => e.name === 'PROXY_CONFIG')?.value;
  if (pc) {
    try {
      const parsed = JSON.parse(pc) as { discoveryAddress?: unknown };
      if (typeof parsed.discoveryAddress === 'string') return parsed.discoveryAddress;
    } catch {
      // not JSON: fall through to the other sources
    }
  }
  const args = c.args ?? [];
  const i = args.indexOf('--discoveryAddress');
  if (i >= 0 && args[i + 1]) return args[i + 1];
  return env.find((e) => e.name === 'CA_ADDR')?.value;
}
