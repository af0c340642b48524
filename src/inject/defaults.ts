/**
 * Built-in settings: what a default Istio install (the istiod chart's values and the default mesh
 * config) gives the injector. Used when no file or cluster supplies them; files and the cluster
 * overlay these key by key.
 */
export const DEFAULT_HUB = 'docker.io/istio';
export const DEFAULT_TAG = '1.28.0';

export function defaultValues(): Record<string, unknown> {
  return {
    revision: '',
    global: {
      hub: DEFAULT_HUB,
      tag: DEFAULT_TAG,
      imagePullPolicy: '',
      imagePullSecrets: [],
      istioNamespace: 'istio-system',
      pilotCertProvider: 'istiod',
      caAddress: '',
      caName: '',
      meshID: '',
      network: '',
      trustDomain: '',
      logAsJson: false,
      logging: { level: 'default:info' },
      multiCluster: { clusterName: '' },
      sts: { servicePort: 0 },
      proxy: {
        image: 'proxyv2',
        clusterDomain: 'cluster.local',
        logLevel: 'warning',
        componentLogLevel: 'misc:error',
        privileged: false,
        enableCoreDump: false,
        statusPort: 15020,
        readinessInitialDelaySeconds: 0,
        readinessPeriodSeconds: 15,
        readinessFailureThreshold: 4,
        startupProbe: { enabled: true, failureThreshold: 600 },
        includeIPRanges: '*',
        excludeIPRanges: '',
        includeInboundPorts: '*',
        excludeInboundPorts: '',
        includeOutboundPorts: '',
        excludeOutboundPorts: '',
        holdApplicationUntilProxyStarts: false,
        capNetBindService: false,
        lifecycle: {},
        tracer: 'none',
        resources: {
          requests: { cpu: '100m', memory: '128Mi' },
          limits: { cpu: '2000m', memory: '1024Mi' },
        },
      },
      proxy_init: { image: 'proxyv2' },
    },
    istio_cni: { enabled: false },
    sidecarInjectorWebhook: { rewriteAppHTTPProbe: true },
  };
}

/** The mesh config fields the injector reads, at their Istio defaults. */
export function defaultMeshConfig(): Record<string, unknown> {
  return {
    trustDomain: 'cluster.local',
    enablePrometheusMerge: true,
    proxyListenPort: 15001,
    defaultConfig: {},
  };
}

/** ProxyConfig defaults that matter for injection (the rest is the agent's business). */
export const PROXY_CONFIG_DEFAULTS = {
  interceptionMode: 'REDIRECT',
  statusPort: 15020,
} as const;

export function defaultInjectConfig(): Record<string, unknown> {
  return {
    policy: 'enabled',
    defaultTemplates: ['sidecar'],
    neverInjectSelector: [],
    alwaysInjectSelector: [],
    injectedAnnotations: {},
    aliases: {},
  };
}
