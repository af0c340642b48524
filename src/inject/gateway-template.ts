import { type Obj, get, isObj } from './config.js';
import { PROXY_CONFIG_DEFAULTS } from './defaults.js';
import {
  type SidecarParts,
  type TemplateInput,
  PROXY,
  agentArgs,
  agentMounts,
  appContainerNames,
  canonicalLabels,
  commonEnv,
  defaultContainerAnnotations,
  fieldRef,
  imagePullSecrets,
  meshEnv,
  podInfoVolume,
  podPortsValue,
  proxyImage,
  proxyMetadataEnv,
  readiness,
  resourceRef,
  str,
  tokenVolume,
  workloadEnv,
} from './template.js';

/**
 * Istio's `gateway` injection template (`inject.istio.io/templates: gateway`, gateway Deployments with
 * `image: auto`): the proxy runs as a router in `containers`, without iptables, with no resources of its
 * own and the pod allowed to bind low ports.
 */
export function renderGateway(input: TemplateInput): SidecarParts {
  const g = (path: string) => get(input.settings.values, path);
  const apps = appContainerNames(input.spec);
  const istiodCa = str(g('global.pilotCertProvider')) === 'istiod';
  const gke = str(g('global.caName')) === 'GkeWorkloadCertificate';
  const proxy: Obj = {
    name: PROXY,
    image: proxyImage(input, 'global.proxy.image'),
    ports: [{ containerPort: 15090, protocol: 'TCP', name: 'http-envoy-prom' }],
    args: routerArgs(input),
  };
  const lifecycle = g('global.proxy.lifecycle');
  if (isObj(lifecycle) && Object.keys(lifecycle).length > 0) proxy.lifecycle = structuredClone(lifecycle);
  proxy.securityContext = { runAsUser: 1337, runAsGroup: 1337 };
  proxy.env = [
    ...commonEnv(input),
    resourceRef('ISTIO_CPU_LIMIT', 'limits.cpu'),
    { name: 'PROXY_CONFIG', value: JSON.stringify(input.proxyConfigSet) + '\n' },
    { name: 'ISTIO_META_POD_PORTS', value: podPortsValue(input.spec) },
    resourceRef('GOMEMLIMIT', 'limits.memory'),
    resourceRef('GOMAXPROCS', 'limits.cpu'),
    { name: 'ISTIO_META_APP_CONTAINERS', value: apps.join(',') },
    { name: 'ISTIO_META_CLUSTER_ID', value: str(g('global.multiCluster.clusterName')) || 'Kubernetes' },
    fieldRef('ISTIO_META_NODE_NAME', 'spec.nodeName'),
    { name: 'ISTIO_META_INTERCEPTION_MODE', value: str(input.proxyConfig.interceptionMode ?? PROXY_CONFIG_DEFAULTS.interceptionMode) },
    ...workloadEnv(input),
    ...meshEnv(input),
    ...proxyMetadataEnv(input),
  ];
  if (str(g('global.imagePullPolicy'))) proxy.imagePullPolicy = str(g('global.imagePullPolicy'));
  proxy.readinessProbe = readiness(input, 15021);
  const mounts: Obj[] = [
    { name: 'workload-socket', mountPath: '/var/run/secrets/workload-spiffe-uds' },
    { name: 'credential-socket', mountPath: '/var/run/secrets/credential-uds' },
    gke
      ? { name: 'gke-workload-certificate', mountPath: '/var/run/secrets/workload-spiffe-credentials', readOnly: true }
      : { name: 'workload-certs', mountPath: '/var/run/secrets/workload-spiffe-credentials' },
  ];
  proxy.volumeMounts = [...mounts, ...agentMounts(istiodCa, 'istio-envoy')];

  const volumes: Obj[] = [
    { name: 'workload-socket' },
    { emptyDir: {}, name: 'credential-socket' },
    gke ? { name: 'gke-workload-certificate', csi: { driver: 'workloadcertificates.security.cloud.google.com' } } : { emptyDir: {}, name: 'workload-certs' },
    { emptyDir: { medium: 'Memory' }, name: 'istio-envoy' },
    { name: 'istio-data', emptyDir: {} },
    podInfoVolume(),
    tokenVolume(input),
  ];
  if (istiodCa) volumes.push({ name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } });

  const securityContext = g('gateways.securityContext');
  return {
    labels: canonicalLabels(input),
    annotations: { 'istio.io/rev': input.settings.revision || 'default', ...defaultContainerAnnotations(apps, input.annotations) },
    initContainers: [],
    containers: [proxy],
    volumes,
    imagePullSecrets: imagePullSecrets(input),
    podSecurityContext: isObj(securityContext) && Object.keys(securityContext).length
      ? structuredClone(securityContext)
      : { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] },
  };
}

function routerArgs(input: TemplateInput): string[] {
  return ['proxy', 'router', ...agentArgs(input)];
}
