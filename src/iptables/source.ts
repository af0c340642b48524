/**
 * Where a pod's rules come from: a saved file (offline), or live from the cluster — the rules
 * istio-iptables logged in the pod's istio-init container, else an exec of iptables-save in the pod.
 * Commands only see `IptablesSource.load()` and print which source was used.
 */
import { MeshctlError } from '../errors.js';
import type { KubeOptions } from '../cli/kube-options.js';
import { readInput } from '../source/file.js';

export interface LoadedRules {
  text: string;
  /** For file:line messages: the file path, `stdin`, or e.g. `pod/web-1.default istio-init logs`. */
  name: string;
  /** Says which source was used, e.g. `file rules.txt` or `istio-init logs of web-1.default`. */
  description: string;
  /** The pod's IP when it is known (live): traffic to it leaves by lo. */
  podIp?: string;
}

export interface IptablesSource {
  load(): Promise<LoadedRules>;
}

export function fileSource(file: string): IptablesSource {
  return {
    async load() {
      const input = await readInput(file);
      return { text: input.text, name: input.name, description: input.name === 'stdin' ? 'stdin' : `file ${input.name}` };
    },
  };
}

/**
 * The live source: istio-init's logs first, then `iptables-save` by exec. Needs the live-mode helpers of
 * src/kube (pod resolution, logs, exec through @kubernetes/client-node); until they exist it is a clear error.
 */
export function podSource(podRef: string, _options: KubeOptions): IptablesSource {
  return {
    async load() {
      throw new MeshctlError(
        `cannot read the rules of pod ${podRef}: live mode (istio-init logs or exec of iptables-save) is not built yet; ` +
          'save them with `kubectl logs POD -c istio-init` or `iptables-save` and use -f FILE',
      );
    },
  };
}
