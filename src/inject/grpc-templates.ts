import { type Obj, get } from './config.js';
import {
  type SidecarParts,
  type TemplateInput,
  PROXY,
  agentArgs,
  agentMounts,
  appContainerNames,
  commonEnv,
  imagePullSecrets,
  meshEnv,
  podInfoVolume,
  readiness,
  tokenVolume,
  workloadEnv,
  canonicalLabels,
  defaultContainerAnnotations,
  fieldRef,
  podPortsValue,
  proxyImage,
  proxyMetadataEnv,
  resources,
  str,
} from './template.js';

export const GRPC_BOOTSTRAP_INIT = 'grpc-bootstrap-init';

/**
 * Istio's `grpc-agent` template: proxyless gRPC with the agent alongside (no Envoy, no iptables). The agent
 * writes the xDS bootstrap and certificates the app containers read; they get the env and mounts for it.
 */
export function renderGrpcAgent(input: TemplateInput): SidecarParts {
  const g = (path: string) => get(input.settings.values, path);
  const apps = appContainerNames(input.spec);
  const istiodCa = str(g('global.pilotCertProvider')) === 'istiod';
  const statusPort = Number(g('global.proxy.statusPort') ?? 15020) || 15020;
  const proxy: Obj = {
    name: PROXY,
    image: proxyImage(input, 'global.proxy.image'),
    ports: [{ containerPort: statusPort, protocol: 'TCP', name: 'mesh-metrics' }],
    args: ['proxy', 'sidecar', ...agentArgs(input)],
    lifecycle: { postStart: { exec: { command: ['pilot-agent', 'wait', `--url=http://localhost:${statusPort}/healthz/ready`] } } },
    env: [
      { name: 'ISTIO_META_GENERATOR', value: 'grpc' },
      { name: 'OUTPUT_CERTS', value: '/var/lib/istio/data' },
      ...commonEnv(input),
      { name: 'PROXY_CONFIG', value: JSON.stringify(input.proxyConfigSet) + '\n' },
      { name: 'ISTIO_META_POD_PORTS', value: podPortsValue(input.spec) },
      { name: 'ISTIO_META_APP_CONTAINERS', value: apps.join(',') },
      { name: 'ISTIO_META_CLUSTER_ID', value: str(g('global.multiCluster.clusterName')) || 'Kubernetes' },
      fieldRef('ISTIO_META_NODE_NAME', 'spec.nodeName'),
      ...workloadEnv(input),
      ...meshEnv(input),
      ...proxyMetadataEnv(input),
      { name: 'ISTIO_META_DNS_CAPTURE', value: 'false' },
      { name: 'DISABLE_ENVOY', value: 'true' },
    ],
  };
  if (str(g('global.imagePullPolicy'))) proxy.imagePullPolicy = str(g('global.imagePullPolicy'));
  proxy.readinessProbe = readiness(input, statusPort);
  proxy.resources = resources(input);
  const mounts: Obj[] = [
    { name: 'workload-socket', mountPath: '/var/run/secrets/workload-spiffe-uds' },
    { name: 'workload-certs', mountPath: '/var/run/secrets/workload-spiffe-credentials' },
  ];
  proxy.volumeMounts = [...mounts, ...agentMounts(istiodCa, 'istio-xds')];

  // the app containers read the bootstrap and certificates the agent writes
  const appPatches = apps.map((name) => ({
    name,
    env: [
      { name: 'GRPC_XDS_EXPERIMENTAL_SECURITY_SUPPORT', value: 'true' },
      { name: 'GRPC_XDS_BOOTSTRAP', value: '/etc/istio/proxy/grpc-bootstrap.json' },
    ],
    volumeMounts: [
      { mountPath: '/var/lib/istio/data', name: 'istio-data' },
      { mountPath: '/etc/istio/proxy', name: 'istio-xds' },
      { mountPath: '/var/run/secrets/workload-spiffe-credentials', name: 'workload-certs' },
    ],
  }));

  const volumes: Obj[] = [
    { name: 'workload-socket' },
    { name: 'workload-certs' },
    { emptyDir: { medium: 'Memory' }, name: 'istio-xds' },
    { name: 'istio-data', emptyDir: {} },
    podInfoVolume(),
    tokenVolume(input),
  ];
  if (istiodCa) volumes.push({ name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } });
  return {
    labels: canonicalLabels(input),
    annotations: {
      'istio.io/rev': input.settings.revision || 'default',
      ...defaultContainerAnnotations(apps, input.annotations),
      // the agent does not serve the app's probes here
      'sidecar.istio.io/rewriteAppHTTPProbers': 'false',
    },
    initContainers: [],
    containers: [proxy, ...appPatches],
    volumes,
    imagePullSecrets: imagePullSecrets(input),
  };
}

/**
 * Istio's `grpc-simple` template: proxyless gRPC without an agent. An init container writes an xDS
 * bootstrap pointing at istiod's plaintext port; the app containers are told where it is.
 */
export function renderGrpcSimple(input: TemplateInput): SidecarParts {
  const g = (path: string) => get(input.settings.values, path);
  const domain = str(g('global.proxy.clusterDomain')) || 'cluster.local';
  const script = [
    `NODE_ID="sidecar~\${INSTANCE_IP}~\${POD_NAME}.\${POD_NAMESPACE}~${domain}"`,
    'SERVER_URI="dns:///istiod.${ISTIO_NAMESPACE}.svc:15010"',
    "echo '",
    '{',
    '  "xds_servers": [',
    '    {',
    '      "server_uri": "\'${SERVER_URI}\'",',
    '      "channel_creds": [{"type": "insecure"}],',
    '      "server_features" : ["xds_v3"]',
    '    }',
    '  ],',
    '  "node": {',
    '    "id": "\'${NODE_ID}\'",',
    '    "metadata": {',
    '      "GENERATOR": "grpc"',
    '    }',
    '  }',
    "}' > /var/lib/grpc/data/bootstrap.json",
  ].join('\n');
  const mount = { mountPath: '/var/lib/grpc/data/', name: 'grpc-io-proxyless-bootstrap' };
  const init: Obj = {
    name: GRPC_BOOTSTRAP_INIT,
    image: 'busybox:1.28',
    volumeMounts: [{ ...mount }],
    env: [
      fieldRef('INSTANCE_IP', 'status.podIP'),
      fieldRef('POD_NAME', 'metadata.name'),
      fieldRef('POD_NAMESPACE', 'metadata.namespace'),
      { name: 'ISTIO_NAMESPACE', value: `${str(g('global.istioNamespace'))}\n` },
    ],
    command: ['sh', '-c', script],
  };
  const appPatches = appContainerNames(input.spec).map((name) => ({
    name,
    env: [
      { name: 'GRPC_XDS_BOOTSTRAP', value: '/var/lib/grpc/data/bootstrap.json' },
      { name: 'GRPC_GO_LOG_VERBOSITY_LEVEL', value: '99' },
      { name: 'GRPC_GO_LOG_SEVERITY_LEVEL', value: 'info' },
    ],
    volumeMounts: [{ ...mount }],
  }));
  return {
    labels: {},
    annotations: {},
    initContainers: [init],
    containers: appPatches,
    volumes: [{ name: 'grpc-io-proxyless-bootstrap', emptyDir: {} }],
    imagePullSecrets: [],
  };
}
