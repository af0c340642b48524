/**
 * Where a pod's rules come from: a saved file (offline), or live from the cluster — the rules
 * istio-iptables logged in the pod's istio-init container (or, in CNI mode, the istio-cni plugin in the
 * node's istio-cni-node pod), else an exec of iptables-save in the pod.
 * Commands only see `IptablesSource.load()` and print which source was used.
 */
import { DamagedBundleError, MeshctlError } from '../errors.js';
import type { ClusterSource } from '../kube/cluster.js';
import type { ClusterOptions } from '../kube/open.js';
import { readInput } from '../source/file.js';
import { CNI_CONTAINER, VALIDATION_CONTAINER, cniMode, cniRules } from './cni.js';

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

/** The container istio-iptables runs in when the sidecar is injected without CNI. */
export const INIT_CONTAINER = 'istio-init';

/**
 * The live source (or a bundle's record of it): the rules istio-iptables logged in the pod's istio-init
 * container, or in CNI mode the ones the istio-cni plugin logged to the node's istio-cni-node pod (./cni.ts);
 * where that is missing (rotated logs, an agent restarted since) an exec of iptables-save and ip6tables-save
 * in the first container that can run them (istio-proxy first). All through src/kube (client-node),
 * never kubectl; with `options.bundle`, the same reads answered by the bundle.
 */
export function podSource(podRef: string, options: ClusterOptions): IptablesSource {
  return {
    async load() {
      const { openCluster } = await import('../kube/open.js');
      const { resolvePod } = await import('../kube/pods.js');
      const cluster = await openCluster(options);
      try {
        return await podRules(cluster, await resolvePod(cluster, podRef));
      } finally {
        cluster.close();
      }
    },
  };
}

/** A resolved pod's rules, read through `cluster` (live, a bundle, or bug-report's recording of the live one). */
export async function podRules(cluster: ClusterSource, resolved: { name: string; namespace: string; pod: PodObject }): Promise<LoadedRules> {
  const { parseIptables } = await import('./parse.js');
  // without its object: execInPod would refuse a native sidecar, which is not among spec.containers
  const target = { name: resolved.name, namespace: resolved.namespace };
  const where = `${resolved.name}.${resolved.namespace}`;
  const spec = resolved.pod.spec;
  const podIp = resolved.pod.status?.podIP;
  const tried: string[] = [];
  const withIp = (r: LoadedRules): LoadedRules => (podIp ? { ...r, podIp } : r);

  if ((spec?.initContainers ?? []).some((c) => c.name === INIT_CONTAINER)) {
    const name = `${where} ${INIT_CONTAINER} logs`;
    const text = await cluster.podLogs(target, INIT_CONTAINER).catch((e: Error) => {
      if (e instanceof DamagedBundleError) throw e;
      tried.push(`the ${INIT_CONTAINER} logs: ${firstLine(e.message)}`);
      return null;
    });
    if (text !== null && hasRules(text, name, parseIptables)) {
      return withIp({ text, name, description: `the ${INIT_CONTAINER} logs of pod ${where}` });
    }
    if (text !== null) tried.push(`the ${INIT_CONTAINER} logs hold no rules (rotated?)`);
  } else if (cniMode(resolved.pod)) {
    // CNI mode: the istio-cni plugin set the rules up and logged them to the istio-cni-node pod of the node
    try {
      const found = await cniRules(cluster, { name: resolved.name, namespace: resolved.namespace, node: spec?.nodeName });
      const name = `${found.agent} ${CNI_CONTAINER} logs (${resolved.name})`;
      if (hasRules(found.text, name, parseIptables)) {
        return withIp({ text: found.text, name, description: `the istio-cni plugin's log of pod ${where} in ${found.agent}` });
      }
      tried.push(`the istio-cni log of ${found.agent} holds no rules for ${resolved.name}`);
    } catch (e) {
      if (e instanceof DamagedBundleError) throw e;
      tried.push(`CNI mode, ${firstLine((e as Error).message)}`);
    }
  } else {
    tried.push(`no ${INIT_CONTAINER} container, and not injected for istio-cni (no ${VALIDATION_CONTAINER})`);
  }

  // native sidecars (init containers that keep running) can be exec'd into too
  const sidecars = (spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  const names = [...(spec?.containers ?? []), ...sidecars].map((c) => c.name ?? '');
  const order = [...names.filter((n) => n === 'istio-proxy'), ...names.filter((n) => n !== 'istio-proxy')];
  const run = (container: string, bin: string) =>
    cluster.podExec(target, container, [bin]).catch((e: Error) => {
      if (e instanceof DamagedBundleError) throw e;
      return { exitCode: -1, stdout: Buffer.alloc(0), stderr: e.message };
    });
  for (const container of order) {
    // the rules live in one backend; a save of the other prints nothing
    for (const variant of ['', '-legacy', '-nft']) {
      const v4 = await run(container, `iptables${variant}-save`);
      if (v4.exitCode !== 0) {
        tried.push(`iptables${variant}-save in ${container}: ${firstLine(v4.stderr) || `exit code ${v4.exitCode}`}`);
        break; // not allowed or not there: the next container
      }
      if (v4.stdout.toString('utf8').trim() === '') {
        tried.push(`iptables${variant}-save in ${container} printed nothing`);
        continue;
      }
      let text = v4.stdout.toString('utf8');
      const v6 = await run(container, `ip6tables${variant}-save`);
      if (v6.exitCode === 0) text += '\n' + v6.stdout.toString('utf8');
      const name = `${where} iptables${variant}-save`;
      const description = `iptables${variant}-save${v6.exitCode === 0 ? ` and ip6tables${variant}-save` : ''} run in container ${container} of pod ${where}`;
      return withIp({ text, name, description });
    }
  }
  throw new MeshctlError(`cannot read the rules of pod ${where}: ${tried.join('; ')}`);
}

/** The fields of a pod the rules' sources depend on. */
export interface PodObject {
  metadata?: { annotations?: Record<string, string> };
  spec?: { nodeName?: string; initContainers?: { name?: string; restartPolicy?: string }[]; containers?: { name?: string }[] };
  status?: { podIP?: string };
}

function hasRules(text: string, name: string, parse: (t: string, n: string) => unknown): boolean {
  if (text.trim() === '') return false;
  try {
    parse(text, name);
    return true;
  } catch {
    // not rules at all is a reason to try exec; rules that do not parse are reported by the caller's parse
    return /^\s*(\*\w+|-[AINP] )/m.test(text);
  }
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}
