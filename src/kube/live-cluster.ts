import { MeshctlError } from '../errors.js';
import type { Kube } from './client.js';
import { type AdminFlavour, type ClusterObject, type ClusterSource, type ListOptions, type ResourceType, apiPath } from './cluster.js';

export type { AdminFlavour };
import { type ApiAction, ForbiddenError, rbacHint } from './errors.js';
import { execInPod } from './exec.js';
import { type HttpAnswer, type PodTarget, podHttp } from './portforward.js';
import { podLogs } from './resources.js';
import { restGet } from './rest.js';

export const DEFAULT_PROXY_ADMIN_PORT = 15000;
export const PROXY_CONTAINER = 'istio-proxy';

/** Items per page of a list, as kubectl asks: a cluster of 50,000 pods is read in pieces. */
const PAGE = 500;

/** A pod target that may carry its object (then exec fallbacks know its containers). */
export type PodWithObject = PodTarget & { pod?: { spec?: { containers?: { name?: string }[] } } };

/** The live cluster behind a `Kube` connection. */
export function liveCluster(kube: Kube): ClusterSource {
  /** Pods where port-forward was refused: asked through exec from then on, without trying again. */
  const forwardForbidden = new Map<string, ForbiddenError>();

  const action = (verb: 'get' | 'list', t: ResourceType, namespace?: string, name?: string): ApiAction => ({
    verb,
    resource: t.plural,
    ...(t.group ? { group: t.group } : {}),
    ...(t.namespaced && namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  });

  return {
    origin: 'live',
    name: `context ${kube.contextName}`,
    namespace: kube.namespace,
    istioNamespace: kube.istioNamespace,
    revision: kube.revision,
    timeoutMs: kube.timeoutMs,
    context: kube.contextName,

    async get(t, name, namespace) {
      const obj = (await restGet(kube, apiPath(t, namespace, name), action('get', t, namespace, name))) as ClusterObject;
      return obj;
    },

    async list(t, options: ListOptions = {}) {
      const items: ClusterObject[] = [];
      let token: string | undefined;
      do {
        const q = new URLSearchParams();
        if (options.labelSelector) q.set('labelSelector', options.labelSelector);
        if (options.fieldSelector) q.set('fieldSelector', options.fieldSelector);
        q.set('limit', String(PAGE));
        if (token) q.set('continue', token);
        const list = (await restGet(kube, `${apiPath(t, options.namespace)}?${q}`, action('list', t, options.namespace))) as {
          apiVersion?: string;
          items?: ClusterObject[];
          metadata?: { continue?: string };
        };
        // list items come without apiVersion and kind; a bundle (and anything reading it) needs them
        const apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
        for (const item of list.items ?? []) items.push({ apiVersion, kind: t.kind, ...item });
        token = list.metadata?.continue || undefined;
      } while (token);
      return items;
    },

    podGet: (pod: PodWithObject, port, path, admin) => podRequest(kube, pod, port, 'GET', path, forwardForbidden, admin),
    podLogs: (pod, container, options = {}) => podLogs(kube, pod, container, options.tailLines),
    podExec: (pod, container, argv) => execInPod(kube, pod, container, argv),
    close: () => kube.close(),
  };
}


/** Envoy's admin API, through `pilot-agent request` in the istio-proxy container (ztunnel's: src/kube/ztunnel.ts). */
export const ENVOY_ADMIN: AdminFlavour = {
  label: 'Envoy',
  container: PROXY_CONTAINER,
  execCommand: (method, path, port) => {
    // pilot-agent prefixes the admin address itself
    const command = ['pilot-agent', 'request', method, path.replace(/^\//, '')];
    if (port !== DEFAULT_PROXY_ADMIN_PORT) command.push('--debug-port', String(port));
    return command;
  },
};

/**
 * One request to `port` in the pod over a port-forward; where port-forward is forbidden and the pod runs
 * the flavour's container (pilot-agent for Envoy), by exec there instead (remembered in `forbidden`, per pod).
 */
export async function podRequest(
  kube: Kube,
  pod: PodWithObject,
  port: number,
  method: 'GET' | 'POST',
  path: string,
  forbidden: Map<string, ForbiddenError>,
  flavour: AdminFlavour = ENVOY_ADMIN,
): Promise<HttpAnswer> {
  const key = `${pod.namespace}/${pod.name}`;
  let refused = forbidden.get(key);
  if (!refused) {
    try {
      return await podHttp(kube, pod, port, path, method);
    } catch (err) {
      if (!(err instanceof ForbiddenError) || !runsContainer(pod, port, flavour)) throw err;
      refused = err;
      forbidden.set(key, err);
    }
  }
  return execRequest(kube, pod, port, method, path, refused, flavour);
}

/** The flavour's container (istio-proxy) can make the request from inside the pod. */
function runsContainer(pod: PodWithObject, port: number, flavour: AdminFlavour): boolean {
  const containers = pod.pod?.spec?.containers;
  if (!containers) return port === DEFAULT_PROXY_ADMIN_PORT;
  return containers.some((c) => c.name === flavour.container);
}

/** The flavour's command (`pilot-agent request METHOD <path>`) in its container: a fixed vector, never a shell line. */
async function execRequest(
  kube: Kube,
  pod: PodWithObject,
  port: number,
  method: string,
  path: string,
  refused: ForbiddenError,
  flavour: AdminFlavour,
): Promise<HttpAnswer> {
  const podName = `${pod.name}.${pod.namespace}`;
  const command = flavour.execCommand(method, path, port);
  try {
    const result = await execInPod(kube, pod, flavour.container, command);
    if (result.exitCode !== 0) {
      const why = result.stderr.trim().split('\n')[0] || result.message || `exit code ${result.exitCode}`;
      const what = flavour === ENVOY_ADMIN ? `pilot-agent request ${method} ${path}` : `${command[0]} (${method} ${path})`;
      throw new MeshctlError(`${what} in pod ${podName} failed: ${why}`);
    }
    return { status: 200, body: result.stdout };
  } catch (err) {
    if (err instanceof ForbiddenError) {
      throw new MeshctlError(
        `forbidden (403): may neither port-forward to nor exec in pod ${podName}: ${rbacHint(refused.action)}, or ${rbacHint(err.action)}`,
      );
    }
    throw err;
  }
}
