import { MeshctlError } from '../errors.js';
import type { KubeOptions } from '../cli/kube-options.js';
import type { InputText } from '../source/file.js';
import type { EnvoyAdminSource } from '../source/envoy-admin.js';
import { connect } from './client.js';
import { ForbiddenError, rbacHint } from './errors.js';
import { execInPod } from './exec.js';
import { type ResolvedPod, resolvePod } from './pods.js';
import { podHttp } from './portforward.js';

export interface AdminSourceOptions extends KubeOptions {
  /** Envoy admin port in the pod (default 15000). */
  proxyAdminPort?: number;
  /** Whose admin API it is (default Envoy's; ztunnel's serves on the same port, see src/kube/ztunnel.ts). */
  admin?: AdminFlavour;
}

/** What differs between the admin APIs meshctl reads: the name in messages, the container, the exec fallback. */
export interface AdminFlavour {
  label: string;
  container: string;
  /** The argument vector that fetches `path` inside the container when port-forward is forbidden. */
  execCommand(method: string, path: string, port: number): string[];
}

/** The live admin source, with writes (`POST /logging?level=debug`) and the pod it resolved to. */
export interface LiveAdminSource extends EnvoyAdminSource {
  readonly pod: ResolvedPod;
  /** How answers arrive now: through a port-forward, or by exec of pilot-agent after a 403. */
  readonly via: 'port-forward' | 'exec';
  request(method: 'GET' | 'POST', path: string): Promise<InputText>;
}

export const DEFAULT_PROXY_ADMIN_PORT = 15000;
export const PROXY_CONTAINER = 'istio-proxy';

export const ENVOY_ADMIN: AdminFlavour = {
  label: 'Envoy',
  container: PROXY_CONTAINER,
  execCommand: (method, path, port) => {
    // pilot-agent prefixes the admin address itself; a fixed vector, never a shell line
    const command = ['pilot-agent', 'request', method, path.replace(/^\//, '')];
    if (port !== DEFAULT_PROXY_ADMIN_PORT) command.push('--debug-port', String(port));
    return command;
  },
};

/**
 * Opens the Envoy admin API of a pod (`name`, `name.ns`, `deployment/name`) through a port-forward,
 * falling back to exec of `pilot-agent request` where port-forward is forbidden.
 */
export async function openAdminSource(podRef: string, options: AdminSourceOptions): Promise<EnvoyAdminSource> {
  return openLiveAdmin(podRef, options);
}

export async function openLiveAdmin(podRef: string, options: AdminSourceOptions): Promise<LiveAdminSource> {
  const kube = await connect(options);
  const port = options.proxyAdminPort ?? DEFAULT_PROXY_ADMIN_PORT;
  const flavour = options.admin ?? ENVOY_ADMIN;
  let pod: ResolvedPod;
  try {
    pod = await resolvePod(kube, podRef);
    checkReachable(pod, port, flavour);
  } catch (err) {
    kube.close();
    throw err;
  }
  const podName = `${pod.name}.${pod.namespace}`;
  let via: 'port-forward' | 'exec' = 'port-forward';
  let forbiddenForward: ForbiddenError | undefined;

  const answer = (status: number, body: Buffer, method: string, path: string): InputText => {
    const text = body.toString('utf8');
    if (status !== 200) {
      const first = text.trim().split('\n')[0] ?? '';
      throw new MeshctlError(`${flavour.label} admin of pod ${podName} answered ${status} to ${method} ${path}${first ? `: ${first}` : ''}`);
    }
    if (body.length === 0) throw new MeshctlError(`${flavour.label} admin of pod ${podName} sent an empty answer to ${method} ${path}`);
    return { name: `${podName}:${path}`, text };
  };

  const viaExec = async (method: string, path: string): Promise<InputText> => {
    const command = flavour.execCommand(method, path, port);
    try {
      const result = await execInPod(kube, pod, flavour.container, command);
      if (result.exitCode !== 0) {
        const why = result.stderr.trim().split('\n')[0] || result.message || `exit code ${result.exitCode}`;
        const what = flavour === ENVOY_ADMIN ? `pilot-agent request ${method} ${path}` : `${command[0]} (${method} ${path})`;
        throw new MeshctlError(`${what} in pod ${podName} failed: ${why}`);
      }
      return answer(200, result.stdout, method, path);
    } catch (err) {
      if (err instanceof ForbiddenError && forbiddenForward) {
        throw new MeshctlError(
          `forbidden (403): may neither port-forward to nor exec in pod ${podName}: ${rbacHint(forbiddenForward.action)}, or ${rbacHint(err.action)}`,
        );
      }
      throw err;
    }
  };

  const request = async (method: 'GET' | 'POST', path: string): Promise<InputText> => {
    if (via === 'port-forward') {
      try {
        const r = await podHttp(kube, pod, port, path, method);
        return answer(r.status, r.body, method, path);
      } catch (err) {
        if (!(err instanceof ForbiddenError)) throw err;
        forbiddenForward = err;
        via = 'exec';
      }
    }
    return viaExec(method, path);
  };

  return {
    name: podName,
    offline: false,
    pod,
    get via() {
      return via;
    },
    get: (path: string) => request('GET', path),
    request,
    close: async () => kube.close(),
  };
}

function checkReachable(pod: ResolvedPod, port: number, flavour: AdminFlavour): void {
  const phase = pod.pod.status?.phase ?? 'Unknown';
  const where = `pod ${pod.name}.${pod.namespace}`;
  if (pod.pod.metadata?.deletionTimestamp) throw new MeshctlError(`${where} is terminating; its ${flavour.label} admin port cannot be trusted`);
  if (phase !== 'Running') throw new MeshctlError(`${where} is ${phase}, not Running: its ${flavour.label} admin port ${port} cannot be reached`);
  const containers = [...(pod.pod.spec?.containers ?? []), ...(pod.pod.spec?.initContainers ?? [])].map((c) => c.name);
  if (containers.length > 0 && !containers.includes(flavour.container)) {
    throw new MeshctlError(`${where} has no ${flavour.container} container (containers: ${containers.join(', ')}): is it in the mesh?`);
  }
}
