import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import yaml from 'js-yaml';
import { fixture } from '../helpers.js';
import { startApiServer, writeKubeconfig, type ApiServer, type ApiServerOptions, type KubeObject } from './apiserver.js';

/**
 * The ambient mesh of fixtures/ambient (namespaces labelled for ambient and waypoints, waypoint Gateways of
 * class istio-waypoint with their status conditions, labelled services and pods, ztunnel pods,
 * AuthorizationPolicies), as the API-server stand-in serves it: the same objects live as offline.
 */
export function waypointMeshObjects(): KubeObject[] {
  const dir = fixture('ambient');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => yaml.loadAll(readFileSync(path.join(dir, f), 'utf8')) as KubeObject[])
    .filter((o) => o && typeof o === 'object');
}

export interface AmbientCluster {
  api: ApiServer;
  kubeconfig: string;
  close(): Promise<void>;
}

/** An API server with the ambient objects (plus `extra`), and a kubeconfig for it (context namespace `namespace`). */
export async function startAmbientCluster(options: Partial<ApiServerOptions> & { namespace?: string; extra?: KubeObject[] } = {}): Promise<AmbientCluster> {
  const { namespace, extra, ...apiOptions } = options;
  const api = await startApiServer({ objects: [...waypointMeshObjects(), ...(extra ?? [])], ...apiOptions });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-ambient-'));
  const kubeconfig = await writeKubeconfig(path.join(dir, 'kubeconfig'), { server: api.url, ...(namespace ? { namespace } : {}) });
  return {
    api,
    kubeconfig,
    close: async () => {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
