/**
 * Kubernetes access for meshctl, all through @kubernetes/client-node (never kubectl). Nothing here
 * imports client-node at load time: `connect()` imports it, so only commands that talk to a cluster
 * pay for it.
 *
 *   const kube = await connect(opts);            // opts: KubeOptions from src/kube/options.ts
 *   try {
 *     const pod = await resolvePod(kube, 'deployment/reviews');   // or 'name', 'name.ns'
 *     const svcs = await listServices(kube, 'default');
 *     const r = await execInPod(kube, pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'server_info']);
 *     const a = await podHttp(kube, pod, 15000, '/server_info'); // one HTTP request over a port-forward
 *     const log = await podLogs(kube, pod, 'istio-proxy', 100);
 *   } finally {
 *     kube.close();                               // ends every port-forward/exec socket: the process can exit
 *   }
 *
 * - `connect`: kubeconfig from --kubeconfig, $KUBECONFIG (several files, kubectl's merge), ~/.kube/config
 *   or in-cluster; --context; namespace = -n, else the context's, else `default`; --timeout on every call.
 * - `kube.call(action, fn)`: run any client-node API call (`kube.core`, `kube.apps`, `kube.batch`) with
 *   the timeout and one-line errors (401, 403 naming the RBAC verb/resource, 404 naming the object,
 *   refused/timeout naming the server). `ForbiddenError` / `NotFoundError` can be caught by type.
 * - `parsePodRef`, `resolvePod`, `getPod`, `listPods`, `pickPod`, `labelSelectorString`: istioctl's pod references.
 * - `openTunnel`, `podHttp`, `forwardLocalPort`: port-forward (a stream, one HTTP request, a local listener).
 * - `execInPod`: a fixed argument vector in a container; stdout, stderr and exit code.
 * - `openAdminSource` / `openLiveAdmin`: a pod's Envoy admin API as an EnvoyAdminSource (exec fallback on 403).
 * - `parseDuration`: `30s`, `1m30s` → ms.
 * - `ClusterSource` (cluster.ts): the narrow interface a command reads a cluster through — objects, a GET on
 *   a pod's port, logs, execs — implemented live by `liveCluster(kube)` and by a bug-report bundle;
 *   `openCluster(opts)` picks one (`opts.bundle`). See docs/bundle.md.
 */
export { connect, type Kube, type ConnectOptions } from './client.js';
export { loadKubeConfig, type LoadedConfig, type KubeConfigOptions } from './config.js';
export { parseDuration, formatDuration } from './duration.js';
export { ForbiddenError, NotFoundError, KubeTimeoutError, type ApiAction, rbacHint } from './errors.js';
export { execInPod, type ExecResult } from './exec.js';
export {
  parsePodRef, resolvePod, getPod, listPods, pickPod, podReady, labelSelectorString,
  type PodRef, type ResolvedPod, type WorkloadKind,
} from './pods.js';
export { openTunnel, podHttp, forwardLocalPort, type PodTarget, type HttpAnswer, type LocalForward } from './portforward.js';
export {
  listServices, listEndpoints, getNamespace, listNamespaces, getConfigMap, listConfigMaps, podLogs,
} from './resources.js';
export { openAdminSource, openLiveAdmin, type AdminSourceOptions, type LiveAdminSource } from './admin-source.js';
export {
  type ClusterSource, type ClusterObject, type ResourceType, type ListOptions, apiPath, resourceName,
  POD, SERVICE, ENDPOINTS, ENDPOINTSLICE, NAMESPACE, CONFIGMAP, DEPLOYMENT, REPLICASET, STATEFULSET, DAEMONSET, JOB,
} from './cluster.js';
export { liveCluster } from './live-cluster.js';
export { openCluster, type ClusterOptions } from './open.js';
export { adminSourceFor, type PodAdminSource } from './admin-source.js';
export { asCluster, type PodSourceArg } from './pods.js';
export { parseLabelSelector, matchesLabels } from './selector.js';
