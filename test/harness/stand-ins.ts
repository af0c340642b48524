import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { KubeOptions } from '../../src/kube/options.js';
import { startApiServer, writeKubeconfig, type ApiServer, type ApiServerOptions, type KubeObject } from './apiserver.js';

export interface StandIns {
  /** The file's scratch directory (kubeconfigs, bundles). */
  dir(): string;
  /** Something else to close after the file's tests (a whole fake cluster, say). */
  closeAfter(close: () => Promise<void>): void;
  /** An API-server stand-in over `objects`, with a kubeconfig of its own and the options a command takes. */
  start(objects: KubeObject[], extra?: Partial<ApiServerOptions>): Promise<{ api: ApiServer; kubeconfig: string; options: KubeOptions }>;
}

/**
 * The API-server stand-ins of one test file: a scratch directory made before its tests, and every stand-in
 * started (and anything given to closeAfter) closed after them, the directory removed. `namespace`: the
 * kubeconfig context's namespace (none written when not given).
 */
export function standIns(prefix: string, o: { namespace?: string } = {}): StandIns {
  let dir = '';
  const closers: (() => Promise<void>)[] = [];
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  after(async () => {
    await Promise.all(closers.map((c) => c()));
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    closeAfter: (close) => {
      closers.push(close);
    },
    async start(objects, extra = {}) {
      const api = await startApiServer({ objects, ...extra });
      closers.push(() => api.close());
      const kubeconfig = await writeKubeconfig(path.join(dir, `kubeconfig-${closers.length}`), { server: api.url, ...(o.namespace ? { namespace: o.namespace } : {}) });
      return { api, kubeconfig, options: { kubeconfig, istioNamespace: 'istio-system', timeout: '20s' } };
    },
  };
}
