/** Envoy's `/clusters?format=json` and istiod's `/debug/registryz` for the mesh model. */
import { subsetsOf } from './dump.js';
import { lazy, streamed } from './json-stream.js';
import type { Mesh } from './mesh.js';
import { clusterName } from './mesh.js';

const MAX = 4294967295;

function hostStats(seed: number) {
  const total = (seed * 7919) % 5000;
  return [
    { name: 'cx_connect_fail' },
    { value: String(total % 97), name: 'cx_total' },
    { name: 'rq_error' },
    { value: String(total), name: 'rq_success' },
    { name: 'rq_timeout' },
    { value: String(total), name: 'rq_total' },
    { type: 'GAUGE', value: String(total % 3), name: 'cx_active' },
    { type: 'GAUGE', name: 'rq_active' },
  ];
}

export function clustersJson(mesh: Mesh): unknown {
  return streamed({
    cluster_statuses: lazy(
      (function* () {
        for (const s of mesh.services) {
          for (const port of s.ports) {
            for (const subset of subsetsOf(s)) {
              const name = clusterName(port.port, subset, s.fqdn);
              const pods = subset ? s.pods.filter((p) => p.version === subset) : s.pods;
              yield {
                name,
                added_via_api: true,
                host_statuses: pods.map((p, k) => ({
                  address: { socket_address: { address: p.ip, port_value: port.targetPort } },
                  stats: hostStats(s.index * 31 + k),
                  health_status: p.healthy ? { eds_health_status: 'HEALTHY' } : { eds_health_status: 'UNHEALTHY', failed_outlier_check: true },
                  weight: 1,
                  locality: { region: mesh.region, zone: p.zone },
                })),
                circuit_breakers: {
                  thresholds: [
                    { max_connections: MAX, max_pending_requests: MAX, max_requests: MAX, max_retries: MAX },
                    { priority: 'HIGH', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 },
                  ],
                },
                observability_name: name,
                eds_service_name: name,
              };
            }
          }
        }
      })(),
    ),
  });
}

export function registryz(mesh: Mesh): unknown {
  return lazy(
    (function* () {
      for (const s of mesh.services) {
        yield {
          Attributes: {
            ServiceRegistry: 'Kubernetes',
            Name: s.name,
            Namespace: s.namespace,
            Labels: { app: s.name },
            ExportTo: null,
            LabelSelectors: { app: s.name },
            ClusterExternalAddresses: null,
            ClusterExternalPorts: null,
            PassthroughTargetPorts: null,
            K8sAttributes: { Type: 'ClusterIP', ExternalName: '', NodeLocal: false, TrafficDistribution: 0, ObjectName: s.name },
          },
          ports: s.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol === 'GRPC' ? 'GRPC' : p.protocol })),
          serviceAccounts: [`spiffe://cluster.local/ns/${s.namespace}/sa/${s.serviceAccount}`],
          creationTime: '2026-11-02T08:00:00Z',
          hostname: s.fqdn,
          clusterVIPs: { Addresses: { Kubernetes: [s.clusterIP] } },
          defaultAddress: s.clusterIP,
          Resolution: 0,
          MeshExternal: false,
          ResourceVersion: String(100000 + s.index),
        };
      }
      for (const host of ['kubernetes.default.svc.cluster.local', 'istiod.istio-system.svc.cluster.local']) {
        const [name, namespace] = host.split('.');
        yield { Attributes: { ServiceRegistry: 'Kubernetes', Name: name, Namespace: namespace, Labels: null, ExportTo: null, LabelSelectors: null, ClusterExternalAddresses: null, ClusterExternalPorts: null, PassthroughTargetPorts: null, K8sAttributes: { Type: 'ClusterIP', ExternalName: '', NodeLocal: false, TrafficDistribution: 0, ObjectName: name } }, ports: name === 'kubernetes' ? [{ name: 'https', port: 443, protocol: 'HTTPS' }] : [{ name: 'grpc-xds', port: 15010, protocol: 'GRPC' }, { name: 'https-dns', port: 15012, protocol: 'HTTPS' }, { name: 'https-webhook', port: 443, protocol: 'HTTPS' }, { name: 'http-monitoring', port: 15014, protocol: 'HTTP' }], creationTime: '2026-11-01T08:00:00Z', hostname: host, clusterVIPs: { Addresses: { Kubernetes: [name === 'kubernetes' ? '10.96.0.1' : '10.96.0.10'] } }, defaultAddress: name === 'kubernetes' ? '10.96.0.1' : '10.96.0.10', Resolution: 0, MeshExternal: false, ResourceVersion: '1001' };
      }
    })(),
  );
}
