import { MeshctlError } from '../errors.js';
import type { KubeOptions } from '../cli/kube-options.js';
import type { EnvoyAdminSource } from '../source/envoy-admin.js';

export interface AdminSourceOptions extends KubeOptions {
  /** Envoy admin port in the pod (default 15000). */
  proxyAdminPort?: number;
}

/**
 * Opens the Envoy admin API of a pod (`name`, `name.ns`, `deployment/name`) through a port-forward,
 * falling back to exec of `pilot-agent request` where port-forward is forbidden.
 * Placeholder until the live-mode issue lands: callers can already depend on this signature.
 */
export async function openAdminSource(podRef: string, _options: AdminSourceOptions): Promise<EnvoyAdminSource> {
  throw new MeshctlError(`cannot reach pod ${podRef}: live mode is not built yet; use -f with a saved config dump`);
}
