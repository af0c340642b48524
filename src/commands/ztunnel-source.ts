import type { KubeOptions } from '../kube/options.js';
import type { ClusterOptions } from '../kube/open.js';
import type { EnvoyAdminSource } from '../source/envoy-admin.js';

/** Which ztunnel to read: a ztunnel or workload pod, a node, or any (istioctl's ztunnel-config rules). */
export interface ZtunnelPick {
  pod?: string;
  node?: string;
  /** The view differs per ztunnel: refuse to pick one of several. */
  needsOne?: boolean;
  /** The command, for the message when it must refuse. */
  what?: string;
  proxyAdminPort?: number;
}

/**
 * The live cluster, or the --bundle: the ztunnel serving the target and its admin API (/config_dump as
 * captured), plus the workload to filter to when the pod given is a workload rather than a ztunnel.
 * One place for ztunnel-config and `authz check --ztunnel`.
 */
export async function openZtunnelSource(kube: Partial<KubeOptions> & ClusterOptions, t: ZtunnelPick): Promise<{ source: EnvoyAdminSource; workload?: { name: string; namespace: string } }> {
  const [{ openCluster }, { resolveZtunnelTarget, ZTUNNEL_ADMIN }, { adminSourceOn }] = await Promise.all([
    import('../kube/open.js'),
    import('../kube/ztunnel.js'),
    import('../kube/admin-source.js'),
  ]);
  const cluster = await openCluster(kube);
  try {
    const target = await resolveZtunnelTarget(cluster, {
      pod: t.pod,
      node: t.node,
      namespace: kube.namespace,
      istioNamespace: kube.istioNamespace ?? 'istio-system',
      needsOne: t.needsOne,
      what: t.what,
    });
    return { source: adminSourceOn(cluster, target.ztunnel, t.proxyAdminPort ?? 15000, true, ZTUNNEL_ADMIN), workload: target.workload };
  } catch (err) {
    cluster.close();
    throw err;
  }
}
