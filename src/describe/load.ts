import { MeshctlError } from '../errors.js';
import { loadResources } from '../resources/index.js';
import { emptyMeshObjects, setOrigin, type KubeObject, type MeshObjects } from './objects.js';

/** Which list of MeshObjects a kind goes to; other kinds are ignored (a directory of manifests holds many). */
const KIND_TO_LIST: Record<string, keyof MeshObjects> = {
  Pod: 'pods',
  Service: 'services',
  Endpoints: 'endpoints',
  Namespace: 'namespaces',
  DestinationRule: 'destinationRules',
  VirtualService: 'virtualServices',
  Gateway: 'gateways',
  PeerAuthentication: 'peerAuthentications',
  AuthorizationPolicy: 'authorizationPolicies',
  ConfigMap: 'configMaps',
  ServiceEntry: 'serviceEntries',
};

/** The Gateway API's kinds (any served version: v1, v1beta1, ...); its Gateway is not Istio's. */
const GATEWAY_API_KIND_TO_LIST: Record<string, keyof MeshObjects> = {
  Gateway: 'apiGateways',
  HTTPRoute: 'httpRoutes',
  GRPCRoute: 'grpcRoutes',
  TCPRoute: 'tcpRoutes',
  TLSRoute: 'tlsRoutes',
  ReferenceGrant: 'referenceGrants',
  GatewayClass: 'gatewayClasses',
};

/**
 * Loads the resources describe uses from files, directories (recursively) and globs with the shared loader,
 * keeping each one's `file:line`. A broken file or document is an error naming it: describing from a partial
 * set of resources could give a wrong answer without saying so.
 */
export async function loadMeshObjects(paths: string[]): Promise<MeshObjects> {
  const { resources, problems } = await loadResources(paths, { recursive: true });
  if (problems.length > 0) {
    const p = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new MeshctlError(`${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}${more}`);
  }
  const out = emptyMeshObjects();
  for (const r of resources) {
    // Gateway exists in both Istio's and the Gateway API's groups: the group decides the list.
    const list =
      r.group === 'gateway.networking.k8s.io' ? GATEWAY_API_KIND_TO_LIST[r.kind] : r.group === '' || r.group.endsWith('istio.io') ? KIND_TO_LIST[r.kind] : undefined;
    if (!list) continue;
    const obj = r.object as KubeObject;
    if (r.origin) setOrigin(obj, `${r.origin.file}:${r.origin.line}`);
    (out[list] as KubeObject[]).push(obj);
  }
  return out;
}
