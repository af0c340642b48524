/**
 * The Kubernetes and Istio resources behind the mesh model, as a repository of YAML files (one per
 * service, one per namespace), ~10 resources per service.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import type { Mesh, Service } from './mesh.js';

/** Every 50th service names its HTTP port without a protocol prefix, so analyzers have something to say. */
export const badPortName = (s: Service) => s.index % 50 === 49 && s.ports[0].protocol === 'HTTP';

const labels = (s: Service, version?: string) => ({ app: s.name, ...(version ? { version } : {}), team: s.namespace.replace(/-\d+$/, '') });

export function serviceResources(s: Service): object[] {
  const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: s.namespace, labels: labels(s), ...extra });
  const docs: object[] = [];
  docs.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(s.serviceAccount) });
  docs.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(s.name),
    spec: {
      type: 'ClusterIP',
      clusterIP: s.clusterIP,
      selector: { app: s.name },
      ports: s.ports.map((p, i) => ({
        name: i === 0 && badPortName(s) ? 'web' : p.name,
        port: p.port,
        targetPort: p.targetPort,
        protocol: 'TCP',
        ...(p.protocol === 'GRPC' ? { appProtocol: 'grpc' } : {}),
      })),
    },
  });
  for (const version of s.versions) {
    const replicas = s.pods.filter((p) => p.version === version).length;
    docs.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `${s.name}-${version}`, namespace: s.namespace, labels: labels(s, version) },
      spec: {
        replicas,
        selector: { matchLabels: { app: s.name, version } },
        template: {
          metadata: { labels: labels(s, version), annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '15020' } },
          spec: {
            serviceAccountName: s.serviceAccount,
            containers: [
              {
                name: s.name,
                image: `registry.example.com/${s.namespace}/${s.name}:${version}.${(s.index % 9) + 1}.${s.index % 13}`,
                ports: s.ports.map((p) => ({ containerPort: p.targetPort, name: p.name.slice(0, 15) })),
                env: [
                  { name: 'LOG_LEVEL', value: 'info' },
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                ],
                envFrom: [{ configMapRef: { name: `${s.name}-config` } }],
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
                readinessProbe: { httpGet: { path: '/ready', port: s.ports[0].targetPort }, periodSeconds: 5 },
                livenessProbe: { tcpSocket: { port: s.ports[0].targetPort }, initialDelaySeconds: 10 },
              },
            ],
          },
        },
      },
    });
  }
  docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${s.name}-config`), data: { FEATURE_FLAGS: 'search-v2,fast-checkout', UPSTREAM_TIMEOUT: '3s', CACHE_TTL: '60' } });
  docs.push({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(s.name),
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `${s.name}-${s.versions[0]}` }, minReplicas: 1, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 75 } } }] },
  });
  docs.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta(s.name), spec: { maxUnavailable: 1, selector: { matchLabels: { app: s.name } } } });
  docs.push({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(`${s.name}-ingress`),
    spec: { podSelector: { matchLabels: { app: s.name } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: {} }], ports: s.ports.map((p) => ({ port: p.targetPort, protocol: 'TCP' })) }] },
  });
  docs.push({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: meta(s.name),
    spec: { selector: { matchLabels: { app: s.name } }, action: 'ALLOW', rules: [{ from: [{ source: { namespaces: [s.namespace, 'istio-system'] } }] }, { to: [{ operation: { methods: ['GET'], paths: ['/healthz', '/ready'] } }] }] },
  });
  if (s.destinationRule) {
    docs.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: meta(s.name),
      spec: {
        host: s.fqdn,
        trafficPolicy: {
          connectionPool: { tcp: { maxConnections: 1024 }, http: { http1MaxPendingRequests: 512, http2MaxRequests: 4096 } },
          outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
          ...(s.drMutualTls ? { tls: { mode: 'ISTIO_MUTUAL' } } : {}),
        },
        subsets: s.versions.map((v) => ({ name: v, labels: { version: v } })),
      },
    });
  }
  if (s.routes) {
    const hosts = [s.name];
    // a service with several ports needs the port named in its destinations (IST0112)
    const multiPort = s.ports.length > 1;
    const port = multiPort ? { port: s.ports[0].port } : {};
    const gateways = s.gateway ? [`${s.namespace}-gateway`, 'mesh'] : undefined;
    if (s.gateway) hosts.push(`${s.name}.${s.namespace}.example.com`);
    docs.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: meta(s.name),
      spec: {
        hosts,
        ...(gateways ? { gateways } : {}),
        http: s.routes.map((r) => ({
          name: r.name,
          match: [{ uri: { prefix: r.prefix }, ...(r.header ? { headers: { [r.header.name]: { exact: r.header.exact } } } : {}), ...port }],
          ...(r.rewrite ? { rewrite: { uri: r.rewrite } } : {}),
          route: r.destinations.map((d) => ({
            destination: { host: s.name, ...(d.subset ? { subset: d.subset } : {}), ...(multiPort ? { port: { number: s.ports[0].port } } : {}) },
            ...(r.destinations.length > 1 ? { weight: d.weight } : {}),
          })),
          ...(r.timeout ? { timeout: r.timeout } : {}),
          ...(r.retries ? { retries: { attempts: r.retries, retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes' } } : {}),
        })),
      },
    });
  }
  return docs;
}

export function namespaceResources(ns: string): object[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio-injection': 'enabled', team: ns.replace(/-\d+$/, '') } } },
    { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: ns }, spec: { mtls: { mode: 'STRICT' } } },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: `${ns}-gateway`, namespace: ns },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: [`*.${ns}.example.com`], tls: { mode: 'SIMPLE', credentialName: `${ns}-wildcard-cert` } }] },
    },
  ];
}

export function toYaml(docs: object[]): string {
  return docs.map((d) => yaml.dump(d, { lineWidth: -1, noRefs: true })).join('---\n');
}

/** Writes DIR/<ns>/namespace.yaml and DIR/<ns>/<service>.yaml; returns the number of resources and bytes. */
export function writeResources(mesh: Mesh, dir: string): { resources: number; files: number; bytes: number } {
  let resources = 0;
  let files = 0;
  let bytes = 0;
  const emit = (file: string, docs: object[]) => {
    const text = toYaml(docs);
    writeFileSync(file, text);
    resources += docs.length;
    files++;
    bytes += Buffer.byteLength(text);
  };
  for (const ns of mesh.namespaces) {
    mkdirSync(path.join(dir, ns), { recursive: true });
    emit(path.join(dir, ns, 'namespace.yaml'), namespaceResources(ns));
  }
  for (const s of mesh.services) emit(path.join(dir, s.namespace, `${s.name}.yaml`), serviceResources(s));
  return { resources, files, bytes };
}
