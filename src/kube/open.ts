import type { KubeOptions } from './options.js';
import type { ClusterSource } from './cluster.js';

export interface ClusterOptions extends Partial<KubeOptions> {
  /** A bug-report bundle (tar.gz or its unpacked directory) to read instead of the cluster. */
  bundle?: string;
}

/**
 * The cluster a command reads: the bundle when `--bundle` is given, else the live cluster of the
 * kubeconfig. Each is loaded only when used: a bundle run never loads client-node, a live run never
 * loads the tar reader.
 */
export async function openCluster(options: ClusterOptions): Promise<ClusterSource> {
  if (options.bundle !== undefined) {
    const { openBundleCluster } = await import('./bundle-cluster.js');
    return openBundleCluster(options.bundle, options);
  }
  const [{ connect }, { liveCluster }] = await Promise.all([import('./client.js'), import('./live-cluster.js')]);
  return liveCluster(await connect(options));
}
