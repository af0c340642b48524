import type * as k8s from '@kubernetes/client-node';
import type { Kube } from './client.js';

/** Small read helpers over client-node's CoreV1Api, each with kube.call's timeout and clear errors. */

export async function listServices(kube: Kube, namespace?: string): Promise<k8s.V1Service[]> {
  const list = namespace
    ? await kube.call({ verb: 'list', resource: 'services', namespace }, (o) => kube.core.listNamespacedService({ namespace }, o))
    : await kube.call({ verb: 'list', resource: 'services' }, (o) => kube.core.listServiceForAllNamespaces({}, o));
  return list.items;
}

export async function listEndpoints(kube: Kube, namespace: string): Promise<k8s.V1Endpoints[]> {
  const list = await kube.call({ verb: 'list', resource: 'endpoints', namespace }, (o) =>
    kube.core.listNamespacedEndpoints({ namespace }, o),
  );
  return list.items;
}

export async function getNamespace(kube: Kube, name: string): Promise<k8s.V1Namespace> {
  return kube.call({ verb: 'get', resource: 'namespaces', name }, (o) => kube.core.readNamespace({ name }, o));
}

export async function listNamespaces(kube: Kube, labelSelector?: string): Promise<k8s.V1Namespace[]> {
  const list = await kube.call({ verb: 'list', resource: 'namespaces' }, (o) => kube.core.listNamespace({ labelSelector }, o));
  return list.items;
}

export async function getConfigMap(kube: Kube, name: string, namespace: string): Promise<k8s.V1ConfigMap> {
  return kube.call({ verb: 'get', resource: 'configmaps', namespace, name }, (o) =>
    kube.core.readNamespacedConfigMap({ name, namespace }, o),
  );
}

export async function listConfigMaps(kube: Kube, namespace: string, labelSelector?: string): Promise<k8s.V1ConfigMap[]> {
  const list = await kube.call({ verb: 'list', resource: 'configmaps', namespace }, (o) =>
    kube.core.listNamespacedConfigMap({ namespace, labelSelector }, o),
  );
  return list.items;
}

/** A container's log (the last `tailLines` lines when given), as text. */
export async function podLogs(
  kube: Kube,
  pod: { name: string; namespace: string },
  container: string,
  tailLines?: number,
): Promise<string> {
  return kube.call({ verb: 'get', resource: 'pods/log', namespace: pod.namespace, name: pod.name }, (o) =>
    kube.core.readNamespacedPodLog({ name: pod.name, namespace: pod.namespace, container, tailLines }, o),
  );
}
