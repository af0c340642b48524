import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeOptions } from '../kube/options.js';
import type { ConfigMapReader } from './providers.js';

/** Whether kubectl's rules would find a kubeconfig at all (without loading client-node). */
export function kubeconfigAvailable(opts: Partial<KubeOptions>, env: NodeJS.ProcessEnv = process.env): boolean {
  if (opts.kubeconfig || opts.context) return true;
  if (env.KUBECONFIG) return true;
  if (existsSync(path.join(env.HOME ?? os.homedir(), '.kube', 'config'))) return true;
  return Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
}

/** ConfigMaps read through the shared Kubernetes access (client-node); close() when done. */
export async function connectConfigMapReader(opts: Partial<KubeOptions>): Promise<{ read: ConfigMapReader; close(): void }> {
  const { connect, getConfigMap, NotFoundError } = await import('../kube/index.js');
  const kube = await connect(opts);
  return {
    async read(namespace, name) {
      try {
        const cm = await getConfigMap(kube, name, namespace);
        return cm.data ?? {};
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    },
    close: () => kube.close(),
  };
}
