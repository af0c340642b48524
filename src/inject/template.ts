import { type InjectSettings, type Obj, get, goJson, isObj } from './config.js';
import { PROXY_CONFIG_DEFAULTS } from './defaults.js';
import { canonicalQuantity } from './quantity.js';

/** The workload that owns the pod template (istioctl's DeploymentMeta and TypeMeta). */
export interface WorkloadRef {
  kind: string;
  apiVersion: string;
  name: string;
  namespace: string;
}

export interface TemplateInput {
  settings: InjectSettings;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: Obj;
  workload: WorkloadRef;
  /** mesh defaultConfig with the proxy.istio.io/config annotation applied. */
  proxyConfig: Obj;
  /** Only the fields the user set (mesh file and annotation): what PROXY_CONFIG carries. */
  proxyConfigSet: Obj;
}

/** What Istio's `sidecar` template adds to a pod. */
export interface SidecarParts {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  initContainers: Obj[];
  containers: Obj[];
  volumes: Obj[];
  imagePullSecrets: Obj[];
  /** Merged into the pod's securityContext (the gateway template's sysctls). */
  podSecurityContext?: Obj;
}

export const PROXY = 'istio-proxy';
export const INIT = 'istio-init';
export const VALIDATION = 'istio-validation';
export const CORE_DUMP = 'enable-core-dump';

/** The template's `annotation` function: the pod's annotation when present, else the default. */
export function ann(input: TemplateInput, name: string, dflt: unknown): string {
  const v = input.annotations[name];
  return v !== undefined ? v : String(dflt ?? '');
}

export const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
export const truthy = (v: unknown): boolean => v !== undefined && v !== null && v !== false && v !== '' && v !== 0;

export function interceptionMode(input: TemplateInput): string {
  return ann(input, 'sidecar.istio.io/interceptionMode', input.proxyConfig.interceptionMode ?? PROXY_CONFIG_DEFAULTS.interceptionMode);
}

export function statusPort(input: TemplateInput): string {
  return ann(input, 'status.sidecar.istio.io/port', get(input.settings.values, 'global.proxy.statusPort'));
}

/** Adds the agent's status port to the excluded inbound ports unless already there (istio's excludeInboundPort). */
export function excludeInboundPort(port: string, excluded: string): string {
  const p = port.trim();
  if (p === '' || p === '0') return excluded;
  const out: string[] = [];
  for (const raw of excluded.split(',')) {
    if (raw === p) return excluded;
    const t = raw.trim();
    if (t) out.push(t);
  }
  out.push(p);
  return out.join(',');
}

/** The proxy image: hub/proxyv2:tag, --image, or the proxyImage annotation (a full image name). */
export function proxyImage(input: TemplateInput, imageKey: 'global.proxy.image' | 'global.proxy_init.image'): string {
  const v = input.settings.values;
  const fromAnnotation = ann(input, 'sidecar.istio.io/proxyImage', get(v, imageKey));
  if (fromAnnotation.includes('/')) return fromAnnotation;
  if (input.settings.image) return input.settings.image;
  const imageName = str(get(v, 'global.proxy.image')) || 'proxyv2';
  let tag = str(get(v, 'global.tag'));
  const imageType = input.annotations['sidecar.istio.io/proxyImageType'] ?? str(get(input.proxyConfig, 'image.imageType'));
  if (imageType) {
    for (const known of ['distroless', 'debug']) if (tag.endsWith('-' + known)) tag = tag.slice(0, -known.length - 1);
    if (imageType !== 'default') tag = `${tag}-${imageType}`;
  }
  return `${str(get(v, 'global.hub'))}/${imageName}:${tag}`;
}

/** Proxy resources from the proxyCPU/proxyMemory(+Limit) annotations, else the values. */
export function resources(input: TemplateInput): Obj {
  const a = input.annotations;
  const keys = ['proxyCPU', 'proxyMemory', 'proxyCPULimit', 'proxyMemoryLimit'].map((k) => `sidecar.istio.io/${k}`);
  const out: Obj = {};
  if (keys.some((k) => k in a)) {
    const requests: Obj = {};
    const limits: Obj = {};
    if (keys[0] in a) requests.cpu = canonicalQuantity(a[keys[0]]);
    if (keys[1] in a) requests.memory = canonicalQuantity(a[keys[1]]);
    if (keys[2] in a) limits.cpu = canonicalQuantity(a[keys[2]]);
    if (keys[3] in a) limits.memory = canonicalQuantity(a[keys[3]]);
    if (Object.keys(limits).length) out.limits = limits;
    if (Object.keys(requests).length) out.requests = requests;
    return out;
  }
  const r = get(input.settings.values, 'global.proxy.resources');
  if (!isObj(r)) return out;
  for (const part of ['limits', 'requests'] as const) {
    const q = r[part];
    if (!isObj(q) || Object.keys(q).length === 0) continue;
    const canon: Obj = {};
    for (const [k, val] of Object.entries(q)) canon[k] = typeof val === 'string' || typeof val === 'number' ? canonicalQuantity(val) : val;
    out[part] = canon;
  }
  return out;
}

export function proxyMetadataEnv(input: TemplateInput): Obj[] {
  const md = input.proxyConfig.proxyMetadata;
  if (!isObj(md)) return [];
  // Go templates range over maps in sorted key order
  return Object.keys(md)
    .sort()
    .map((k) => ({ name: k, value: str(md[k]) }));
}

/** A container port as Go's json.Marshal writes corev1.ContainerPort (field order, empty fields left out). */
function portJson(p: unknown): string {
  if (!isObj(p)) return '{}';
  const out: Obj = {};
  for (const k of ['name', 'hostPort', 'containerPort', 'protocol', 'hostIP']) {
    if (p[k] !== undefined && p[k] !== null && p[k] !== '' && p[k] !== 0) out[k] = p[k];
  }
  return goJson(out);
}

export function appContainerNames(spec: Obj): string[] {
  const cs = Array.isArray(spec.containers) ? spec.containers : [];
  return cs.map((c) => (isObj(c) ? str(c.name) : '')).filter((n) => n !== PROXY);
}

export function podPortsValue(spec: Obj): string {
  const lines = ['['];
  let first = true;
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) {
    if (!isObj(c) || !Array.isArray(c.ports)) continue;
    for (const p of c.ports) {
      lines.push(`    ${first ? '' : ','}${portJson(p)}`);
      first = false;
    }
  }
  lines.push(']');
  return lines.join('\n');
}

export function fieldRef(name: string, path: string): Obj {
  return { name, valueFrom: { fieldRef: { fieldPath: path } } };
}

export function resourceRef(name: string, resource: string): Obj {
  return { name, valueFrom: { resourceFieldRef: { divisor: '1', resource } } };
}

/** Renders Istio's default `sidecar` injection template for one pod, native-sidecar style. */
export function renderSidecar(input: TemplateInput): SidecarParts {
  const c = contextOf(input);
  const { labels, annotations } = podMetadata(c);
  const initContainers = iptablesContainers(c);
  const proxy = proxyContainer(c);
  const containers: Obj[] = [];
  if (c.native) {
    // a native sidecar: an init container that keeps running, started before the app's containers
    proxy.restartPolicy = 'Always';
    initContainers.push(proxy);
  } else containers.push(proxy);
  return { labels, annotations, initContainers, containers, volumes: podVolumes(c), imagePullSecrets: imagePullSecrets(input) };
}

/** What every part of the template reads, worked out once per pod. */
function contextOf(input: TemplateInput) {
  const v = input.settings.values;
  const a = input.annotations;
  const g = (path: string) => get(v, path);
  const cni = truthy(g('istio_cni.enabled'));
  const mode = interceptionMode(input);
  const tproxy = mode === 'TPROXY';
  const privileged = g('global.proxy.privileged') === true;
  const apps = appContainerNames(input.spec);
  const revision = input.settings.revision;
  const res = resources(input);
  const native = isNativeSidecar(input);
  const holdProxy = holdApplication(input);
  const logLevel = ann(input, 'sidecar.istio.io/agentLogLevel', g('global.logging.level'));
  const trustDomain = str(input.settings.mesh.trustDomain) || str(g('global.trustDomain'));
  const statusPortValue = statusPort(input);
  const coreDump = ann(input, 'sidecar.istio.io/enableCoreDump', g('global.proxy.enableCoreDump')) === 'true';
  const gke = str(g('global.caName')) === 'GkeWorkloadCertificate';
  const istiodCa = str(g('global.pilotCertProvider')) === 'istiod';
  return { input, v, a, g, cni, mode, tproxy, privileged, apps, revision, res, native, holdProxy, logLevel, trustDomain, statusPortValue, coreDump, gke, istiodCa };
}

type Ctx = ReturnType<typeof contextOf>;

/** The labels and annotations the template puts on the pod. */
function podMetadata(c: Ctx): { labels: Record<string, string>; annotations: Record<string, string> } {
  const { input, a, g, cni, mode, apps, revision, statusPortValue } = c;
  const labels: Record<string, string> = { 'security.istio.io/tlsMode': input.labels['security.istio.io/tlsMode'] || 'istio', ...canonicalLabels(input) };

  const annotations: Record<string, string> = { 'istio.io/rev': revision || 'default', ...defaultContainerAnnotations(apps, a) };
  if (cni) {
    annotations['sidecar.istio.io/interceptionMode'] = mode;
    const inc = ann(input, 'traffic.sidecar.istio.io/includeOutboundIPRanges', g('global.proxy.includeIPRanges'));
    if (inc) annotations['traffic.sidecar.istio.io/includeOutboundIPRanges'] = inc;
    const exc = ann(input, 'traffic.sidecar.istio.io/excludeOutboundIPRanges', g('global.proxy.excludeIPRanges'));
    if (exc) annotations['traffic.sidecar.istio.io/excludeOutboundIPRanges'] = exc;
    const incIn = ann(input, 'traffic.sidecar.istio.io/includeInboundPorts', g('global.proxy.includeInboundPorts'));
    if (incIn) annotations['traffic.sidecar.istio.io/includeInboundPorts'] = incIn;
    annotations['traffic.sidecar.istio.io/excludeInboundPorts'] = excludeInboundPort(
      statusPortValue,
      ann(input, 'traffic.sidecar.istio.io/excludeInboundPorts', g('global.proxy.excludeInboundPorts')),
    );
    if ('traffic.sidecar.istio.io/includeOutboundPorts' in a || str(g('global.proxy.includeOutboundPorts')) !== '') {
      annotations['traffic.sidecar.istio.io/includeOutboundPorts'] = ann(input, 'traffic.sidecar.istio.io/includeOutboundPorts', g('global.proxy.includeOutboundPorts'));
    }
    if ('traffic.sidecar.istio.io/excludeOutboundPorts' in a || str(g('global.proxy.excludeOutboundPorts')) !== '') {
      annotations['traffic.sidecar.istio.io/excludeOutboundPorts'] = ann(input, 'traffic.sidecar.istio.io/excludeOutboundPorts', g('global.proxy.excludeOutboundPorts'));
    }
  }

  return { labels, annotations };
}

/** service.istio.io/canonical-name and -revision: the pod's own, else from its labels, else the workload's name. */
export function canonicalLabels(input: TemplateInput): Record<string, string> {
  return {
    'service.istio.io/canonical-name':
      input.labels['service.istio.io/canonical-name'] || input.labels['app.kubernetes.io/name'] || input.labels.app || input.workload.name,
    'service.istio.io/canonical-revision':
      input.labels['service.istio.io/canonical-revision'] || input.labels['app.kubernetes.io/version'] || input.labels.version || 'latest',
  };
}

/** kubectl's default container: the first app container, unless the pod names one already. */
export function defaultContainerAnnotations(apps: string[], a: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  if (apps.length >= 1) {
    if (!('kubectl.kubernetes.io/default-logs-container' in a)) out['kubectl.kubernetes.io/default-logs-container'] = apps[0];
    if (!('kubectl.kubernetes.io/default-container' in a)) out['kubectl.kubernetes.io/default-container'] = apps[0];
  }
  return out;
}

/** istio-init (istio-validation with CNI) and, when asked for, enable-core-dump. */
function iptablesContainers(c: Ctx): Obj[] {
  const { input, a, g, cni, mode, privileged, res, logLevel, statusPortValue, coreDump } = c;
  const initContainers: Obj[] = [];
  if (mode !== 'NONE') {
    const excludedIn = excludeInboundPort(statusPortValue, ann(input, 'traffic.sidecar.istio.io/excludeInboundPorts', g('global.proxy.excludeInboundPorts')));
    const args: string[] = [
      'istio-iptables',
      '-p', str(input.settings.mesh.proxyListenPort || 15001),
      '-z', '15006',
      '-u', '1337',
      '-m', mode,
      '-i', ann(input, 'traffic.sidecar.istio.io/includeOutboundIPRanges', g('global.proxy.includeIPRanges')),
      '-x', ann(input, 'traffic.sidecar.istio.io/excludeOutboundIPRanges', g('global.proxy.excludeIPRanges')),
      '-b', ann(input, 'traffic.sidecar.istio.io/includeInboundPorts', g('global.proxy.includeInboundPorts')),
      '-d', excludedIn ? `15090,15021,${excludedIn}` : '15090,15021',
    ];
    if ('traffic.sidecar.istio.io/includeOutboundPorts' in a || str(g('global.proxy.includeOutboundPorts')) !== '') {
      args.push('-q', ann(input, 'traffic.sidecar.istio.io/includeOutboundPorts', g('global.proxy.includeOutboundPorts')));
    }
    if ('traffic.sidecar.istio.io/excludeOutboundPorts' in a || str(g('global.proxy.excludeOutboundPorts')) !== '') {
      args.push('-o', ann(input, 'traffic.sidecar.istio.io/excludeOutboundPorts', g('global.proxy.excludeOutboundPorts')));
    }
    if ('traffic.sidecar.istio.io/kubevirtInterfaces' in a) args.push('-k', a['traffic.sidecar.istio.io/kubevirtInterfaces']);
    if ('traffic.sidecar.istio.io/excludeInterfaces' in a) args.push('-c', a['traffic.sidecar.istio.io/excludeInterfaces']);
    args.push(`--log_output_level=${logLevel}`);
    if (truthy(g('global.logAsJson'))) args.push('--log_as_json');
    if (cni) args.push('--run-validation', '--skip-rule-apply');
    const init: Obj = {
      name: cni ? VALIDATION : INIT,
      image: proxyImage(input, 'global.proxy_init.image'),
      args,
    };
    if (str(g('global.imagePullPolicy'))) init.imagePullPolicy = str(g('global.imagePullPolicy'));
    const md = proxyMetadataEnv(input);
    if (md.length) init.env = md;
    init.resources = structuredClone(res);
    init.securityContext = cni
      ? {
          allowPrivilegeEscalation: privileged,
          capabilities: { drop: ['ALL'] },
          privileged,
          readOnlyRootFilesystem: true,
          runAsGroup: 1337,
          runAsNonRoot: true,
          runAsUser: 1337,
        }
      : {
          allowPrivilegeEscalation: privileged,
          capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
          privileged,
          readOnlyRootFilesystem: false,
          runAsGroup: 0,
          runAsNonRoot: false,
          runAsUser: 0,
        };
    initContainers.push(init);
  }
  if (coreDump) {
    initContainers.push({
      name: CORE_DUMP,
      args: ['-c', 'sysctl -w kernel.core_pattern=/var/lib/istio/data/core.proxy && ulimit -c unlimited'],
      command: ['/bin/sh'],
      image: proxyImage(input, 'global.proxy_init.image'),
      resources: structuredClone(res),
      securityContext: {
        allowPrivilegeEscalation: true,
        capabilities: { add: ['SYS_ADMIN'], drop: ['ALL'] },
        privileged: true,
        readOnlyRootFilesystem: false,
        runAsGroup: 0,
        runAsNonRoot: false,
        runAsUser: 0,
      },
    });
  }

  return initContainers;
}

/** The istio-proxy container, without its placement. */
function proxyContainer(c: Ctx): Obj {
  const { input, v, a, g, tproxy, privileged, apps, revision, res, native, holdProxy, logLevel, trustDomain, statusPortValue, coreDump, gke, istiodCa } = c;
  const proxyArgs = ['proxy', 'sidecar', ...agentArgs(input)];

  const env: Obj[] = [...commonEnv(input)];
  env.push(resourceRef('ISTIO_CPU_LIMIT', 'limits.cpu'));
  env.push({ name: 'PROXY_CONFIG', value: JSON.stringify(input.proxyConfigSet) + '\n' });
  env.push({ name: 'ISTIO_META_POD_PORTS', value: podPortsValue(input.spec) });
  env.push({ name: 'ISTIO_META_APP_CONTAINERS', value: apps.join(',') });
  env.push(resourceRef('GOMEMLIMIT', 'limits.memory'));
  env.push({ name: 'ISTIO_META_CLUSTER_ID', value: str(g('global.multiCluster.clusterName')) || 'Kubernetes' });
  env.push(fieldRef('ISTIO_META_NODE_NAME', 'spec.nodeName'));
  env.push({ name: 'ISTIO_META_INTERCEPTION_MODE', value: a['sidecar.istio.io/interceptionMode'] || str(input.proxyConfig.interceptionMode ?? PROXY_CONFIG_DEFAULTS.interceptionMode) });
  env.push(...workloadEnv(input));
  if ('sidecar.istio.io/bootstrapOverride' in a) {
    env.push({ name: 'ISTIO_BOOTSTRAP_OVERRIDE', value: '/etc/istio/custom-bootstrap/custom_bootstrap.json' });
  }
  env.push(...meshEnv(input));
  env.push(...proxyMetadataEnv(input));

  const proxy: Obj = {
    name: PROXY,
    image: proxyImage(input, 'global.proxy.image'),
    ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
    args: proxyArgs,
  };
  const lifecycle = g('global.proxy.lifecycle');
  if (isObj(lifecycle) && Object.keys(lifecycle).length > 0) proxy.lifecycle = structuredClone(lifecycle);
  else if (holdProxy && !native) {
    proxy.lifecycle = { postStart: { exec: { command: ['pilot-agent', 'wait'] } } };
  } else if (native) {
    proxy.lifecycle = {
      preStop: { exec: { command: ['pilot-agent', 'request', `--debug-port=${statusPortValue}`, 'POST', 'drain'] } },
    };
  }
  proxy.env = env;
  if (str(g('global.imagePullPolicy'))) proxy.imagePullPolicy = str(g('global.imagePullPolicy'));
  if (statusPortValue !== '0') {
    const probe: Obj = { httpGet: { path: '/healthz/ready', port: 15021 } };
    const delay = Number(ann(input, 'readiness.status.sidecar.istio.io/initialDelaySeconds', g('global.proxy.readinessInitialDelaySeconds')));
    if (delay) probe.initialDelaySeconds = delay;
    probe.periodSeconds = Number(ann(input, 'readiness.status.sidecar.istio.io/periodSeconds', g('global.proxy.readinessPeriodSeconds')));
    probe.timeoutSeconds = 3;
    probe.failureThreshold = Number(ann(input, 'readiness.status.sidecar.istio.io/failureThreshold', g('global.proxy.readinessFailureThreshold')));
    proxy.readinessProbe = probe;
  }
  const capBind = ann(input, 'sidecar.istio.io/capNetBindService', g('global.proxy.capNetBindService')) === 'true';
  const add: string[] = [];
  if (tproxy) add.push('NET_ADMIN');
  if (capBind) add.push('NET_BIND_SERVICE');
  const rootish = tproxy || capBind;
  proxy.securityContext = {
    allowPrivilegeEscalation: privileged,
    capabilities: add.length ? { add, drop: ['ALL'] } : { drop: ['ALL'] },
    privileged,
    readOnlyRootFilesystem: !coreDump,
    runAsGroup: 1337,
    runAsNonRoot: !rootish,
    runAsUser: rootish ? 0 : 1337,
  };
  if (get(v, 'global.proxy.startupProbe.enabled') !== false) {
    proxy.startupProbe = {
      httpGet: { path: '/healthz/ready', port: 15021 },
      periodSeconds: 1,
      timeoutSeconds: 3,
      failureThreshold: Number(g('global.proxy.startupProbe.failureThreshold') ?? 600),
    };
  }
  proxy.resources = res;
  const mounts: Obj[] = [
    { mountPath: '/var/run/secrets/workload-spiffe-uds', name: 'workload-socket' },
    { mountPath: '/var/run/secrets/credential-uds', name: 'credential-socket' },
  ];
  if (gke) mounts.push({ mountPath: '/var/run/secrets/workload-spiffe-credentials', name: 'gke-workload-certificate', readOnly: true });
  else mounts.push({ mountPath: '/var/run/secrets/workload-spiffe-credentials', name: 'workload-certs' });
  if (istiodCa) {
    mounts.push({ mountPath: '/var/run/secrets/istio', name: 'istiod-ca-cert' });
    mounts.push({ mountPath: '/var/run/secrets/istio/crl', name: 'istio-ca-crl' });
  }
  mounts.push({ mountPath: '/var/lib/istio/data', name: 'istio-data' });
  if ('sidecar.istio.io/bootstrapOverride' in a) mounts.push({ mountPath: '/etc/istio/custom-bootstrap', name: 'custom-bootstrap-volume' });
  mounts.push({ mountPath: '/etc/istio/proxy', name: 'istio-envoy' });
  mounts.push({ mountPath: '/var/run/secrets/tokens', name: 'istio-token' });
  mounts.push({ mountPath: '/etc/istio/pod', name: 'istio-podinfo' });
  for (const [name, m] of Object.entries(jsonAnnotation(input, 'sidecar.istio.io/userVolumeMount'))) {
    mounts.push({ name, ...(isObj(m) ? m : {}) });
  }
  proxy.volumeMounts = mounts;
  return proxy;
}

/** The volumes the proxy mounts, plus any userVolume. */
function podVolumes(c: Ctx): Obj[] {
  const { input, a, gke, istiodCa } = c;
  const volumes: Obj[] = [{ name: 'workload-socket' }, { name: 'credential-socket' }];
  if (gke) volumes.push({ csi: { driver: 'workloadcertificates.security.cloud.google.com' }, name: 'gke-workload-certificate' });
  else volumes.push({ name: 'workload-certs' });
  if ('sidecar.istio.io/bootstrapOverride' in a) {
    volumes.push({ configMap: { name: a['sidecar.istio.io/bootstrapOverride'] }, name: 'custom-bootstrap-volume' });
  }
  volumes.push({ emptyDir: { medium: 'Memory' }, name: 'istio-envoy' });
  volumes.push({ emptyDir: {}, name: 'istio-data' });
  volumes.push(podInfoVolume());
  volumes.push(tokenVolume(input));
  if (istiodCa) {
    volumes.push({ configMap: { name: 'istio-ca-root-cert' }, name: 'istiod-ca-cert' });
    volumes.push({ configMap: { name: 'istio-ca-crl', optional: true }, name: 'istio-ca-crl' });
  }
  for (const [name, vol] of Object.entries(jsonAnnotation(input, 'sidecar.istio.io/userVolume'))) {
    volumes.push({ name, ...(isObj(vol) ? vol : {}) });
  }

  return volumes;
}


/** Native sidecars unless sidecar.istio.io/nativeSidecar (or the values' global.nativeSidecar) says "false". */
export function isNativeSidecar(input: { annotations: Record<string, string>; settings: InjectSettings }): boolean {
  const a = input.annotations['sidecar.istio.io/nativeSidecar'];
  if (a !== undefined) return a !== 'false';
  return get(input.settings.values, 'global.nativeSidecar') !== false;
}

export function holdApplication(input: { proxyConfig: Obj; settings: InjectSettings }): boolean {
  return input.proxyConfig.holdApplicationUntilProxyStarts === true || get(input.settings.values, 'global.proxy.holdApplicationUntilProxyStarts') === true;
}

/** userVolume / userVolumeMount annotations: a JSON object of name -> spec (validated earlier). */
function jsonAnnotation(input: TemplateInput, name: string): Obj {
  const raw = input.annotations[name];
  if (raw === undefined) return {};
  const parsed = JSON.parse(raw) as unknown;
  return isObj(parsed) ? parsed : {};
}

// ---- parts the templates share -------------------------------------------------------------

/** The agent's args after its mode: domain, log levels, STS port, JSON logs. */
export function agentArgs(input: TemplateInput): string[] {
  const g = (path: string) => get(input.settings.values, path);
  const args = [
    '--domain',
    `$(POD_NAMESPACE).svc.${str(g('global.proxy.clusterDomain'))}`,
    `--proxyLogLevel=${ann(input, 'sidecar.istio.io/logLevel', g('global.proxy.logLevel'))}`,
    `--proxyComponentLogLevel=${ann(input, 'sidecar.istio.io/componentLogLevel', g('global.proxy.componentLogLevel'))}`,
    `--log_output_level=${ann(input, 'sidecar.istio.io/agentLogLevel', g('global.logging.level'))}`,
  ];
  if (truthy(g('global.sts.servicePort'))) args.push(`--stsPort=${str(g('global.sts.servicePort'))}`);
  if (truthy(g('global.logAsJson'))) args.push('--log_as_json');
  return args;
}

/** PILOT_CERT_PROVIDER, CA_ADDR and the pod's identity from the downward API. */
export function commonEnv(input: TemplateInput): Obj[] {
  const g = (path: string) => get(input.settings.values, path);
  const revision = input.settings.revision;
  return [
    { name: 'PILOT_CERT_PROVIDER', value: str(g('global.pilotCertProvider')) },
    { name: 'CA_ADDR', value: str(g('global.caAddress')) || `istiod${revision ? '-' + revision : ''}.${str(g('global.istioNamespace'))}.svc:15012` },
    fieldRef('POD_NAME', 'metadata.name'),
    fieldRef('POD_NAMESPACE', 'metadata.namespace'),
    fieldRef('INSTANCE_IP', 'status.podIP'),
    fieldRef('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    fieldRef('HOST_IP', 'status.hostIP'),
  ];
}

/** ISTIO_META_NETWORK and the workload's name and owner. */
export function workloadEnv(input: TemplateInput): Obj[] {
  const g = (path: string) => get(input.settings.values, path);
  const out: Obj[] = [];
  if (str(g('global.network'))) out.push({ name: 'ISTIO_META_NETWORK', value: str(g('global.network')) });
  if (input.workload.name) out.push({ name: 'ISTIO_META_WORKLOAD_NAME', value: input.workload.name });
  if (input.workload.apiVersion && input.workload.name) {
    out.push({
      name: 'ISTIO_META_OWNER',
      value: `kubernetes://apis/${input.workload.apiVersion}/namespaces/${input.workload.namespace || 'default'}/${input.workload.kind.toLowerCase()}s/${input.workload.name}`,
    });
  }
  return out;
}

/** The mesh ID (meshID, else the trust domain) and the trust domain. */
export function meshEnv(input: TemplateInput): Obj[] {
  const g = (path: string) => get(input.settings.values, path);
  const out: Obj[] = [];
  const trustDomain = str(input.settings.mesh.trustDomain) || str(g('global.trustDomain'));
  const meshId = str(g('global.meshID')) || trustDomain;
  if (meshId) out.push({ name: 'ISTIO_META_MESH_ID', value: meshId });
  if (trustDomain) out.push({ name: 'TRUST_DOMAIN', value: trustDomain });
  return out;
}

/** The agent's readiness probe on `port`, tuned by the values (the templates other than sidecar ignore the annotations). */
export function readiness(input: TemplateInput, port: number): Obj {
  const g = (path: string) => get(input.settings.values, path);
  const probe: Obj = { httpGet: { path: '/healthz/ready', port } };
  const delay = Number(g('global.proxy.readinessInitialDelaySeconds') ?? 0);
  if (delay) probe.initialDelaySeconds = delay;
  probe.periodSeconds = Number(g('global.proxy.readinessPeriodSeconds'));
  probe.timeoutSeconds = 3;
  probe.failureThreshold = Number(g('global.proxy.readinessFailureThreshold'));
  return probe;
}

export function podInfoVolume(): Obj {
  return {
    downwardAPI: {
      items: [
        { fieldRef: { fieldPath: 'metadata.labels' }, path: 'labels' },
        { fieldRef: { fieldPath: 'metadata.annotations' }, path: 'annotations' },
      ],
    },
    name: 'istio-podinfo',
  };
}

export function tokenVolume(input: TemplateInput): Obj {
  const aud = str(get(input.settings.values, 'global.sds.token.aud')) || 'istio-ca';
  return { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { audience: aud, expirationSeconds: 43200, path: 'istio-token' } }] } };
}

export function imagePullSecrets(input: TemplateInput): Obj[] {
  const secrets = get(input.settings.values, 'global.imagePullSecrets');
  return Array.isArray(secrets) ? secrets.map((s) => ({ name: isObj(s) ? str(s.name) : str(s) })) : [];
}

/** The mounts after the certificates: the CA root, agent data, the Envoy/xDS config dir, the token, pod info. */
export function agentMounts(istiodCa: boolean, configVolume: string): Obj[] {
  return [
    ...(istiodCa ? [{ mountPath: '/var/run/secrets/istio', name: 'istiod-ca-cert' }] : []),
    { mountPath: '/var/lib/istio/data', name: 'istio-data' },
    { mountPath: '/etc/istio/proxy', name: configVolume },
    { mountPath: '/var/run/secrets/tokens', name: 'istio-token' },
    { name: 'istio-podinfo', mountPath: '/etc/istio/pod' },
  ];
}
