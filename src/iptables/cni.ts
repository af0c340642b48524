/**
 * A sidecar pod's rules in CNI mode (no istio-init container): the istio-cni plugin programs them when
 * the pod's sandbox is created, and its log reaches the istio-cni-node pod of the pod's node.
 *
 * What istio/istio's sources show (cni/pkg/plugin, cni/pkg/log/uds.go, tools/istio-iptables/pkg/capture):
 * - the plugin logs over a UDS to the node agent, which prints each entry under scope `cni-plugin` in the
 *   `install-cni` container of the `istio-cni-node` DaemonSet pod (label `k8s-app=istio-cni-node`);
 *   plain `time<TAB>level<TAB>scope<TAB>message`, or one JSON object a line with `--log_as_json`;
 * - `============= Start iptables configuration for <pod name> =============` and the matching End line
 *   frame the pod's setup; they name the pod by its name only (no namespace);
 * - in between, at info level, `Running iptables restore with: <binary> and the following input:` and
 *   the iptables-restore input (`* nat` … `COMMIT`), applied with --noflush into the empty pod netns —
 *   the same text istio-init logs, so the same parser reads it;
 * - a failed command is logged at error level (`Command error: …`) inside the frame; a setup that
 *   found the rules already in place applies (and logs) none.
 * The log only reaches back to the agent container's start: a pod older than that has no frame.
 */
import { DamagedBundleError, MeshctlError } from '../errors.js';
import type { ClusterObject, ClusterSource } from '../kube/cluster.js';
import { POD } from '../kube/cluster.js';

export const CNI_LABEL = 'k8s-app=istio-cni-node';
export const CNI_CONTAINER = 'install-cni';
/** The init container the injector adds in CNI mode (it checks the plugin's redirection); never istio-init. */
export const VALIDATION_CONTAINER = 'istio-validation';

export interface CniPod {
  metadata?: { annotations?: Record<string, string> };
  spec?: { nodeName?: string; initContainers?: { name?: string }[] };
}

/** True when the pod was injected for the istio-cni plugin: istio-validation, in the spec or the injector's status. */
export function cniMode(pod: CniPod): boolean {
  if ((pod.spec?.initContainers ?? []).some((c) => c.name === VALIDATION_CONTAINER)) return true;
  const status = pod.metadata?.annotations?.['sidecar.istio.io/status'];
  if (!status) return false;
  try {
    const s = JSON.parse(status) as { initContainers?: unknown };
    return Array.isArray(s.initContainers) && s.initContainers.includes(VALIDATION_CONTAINER);
  } catch {
    return false;
  }
}

export interface CniRules {
  /** The pod's frame of the agent's log, one plain line per entry line (JSON entries unfolded). */
  text: string;
  /** `istio-system/istio-cni-node-x` */
  agent: string;
}

/** The istio-cni-node logs already read, per cluster source: bug-report asks once per node, not per pod. */
const logCache = new WeakMap<ClusterSource, Map<string, Promise<string>>>();

/**
 * The rules the istio-cni plugin logged for `podName` on `node`; a MeshctlError says what is missing
 * (no agent on the node, its log refused, no frame for the pod, an error inside the frame, no rules).
 */
export async function cniRules(cluster: ClusterSource, podName: string, node: string | undefined): Promise<CniRules> {
  if (!node) throw new MeshctlError('the pod is not scheduled on a node, so no istio-cni-node pod has its rules');
  const agents = await findAgents(cluster, node);
  if (agents.length === 0) throw new MeshctlError(`no istio-cni-node pod (label ${CNI_LABEL}) on node ${node}`);
  const agent = agents[0];
  const where = `${agent.metadata?.namespace}/${agent.metadata?.name}`;
  let cache = logCache.get(cluster);
  if (!cache) logCache.set(cluster, (cache = new Map()));
  let pending = cache.get(where);
  if (!pending) {
    pending = cluster.podLogs({ name: agent.metadata?.name ?? '', namespace: agent.metadata?.namespace ?? '' }, CNI_CONTAINER);
    cache.set(where, pending);
  }
  const log = await pending.catch((e: Error) => {
    if (e instanceof DamagedBundleError) throw e;
    throw new MeshctlError(`the ${CNI_CONTAINER} log of ${where}: ${firstLine(e.message)}`);
  });
  const frame = podFrame(log, podName);
  if (frame.kind === 'none') {
    throw new MeshctlError(`the ${CNI_CONTAINER} log of ${where} has no "Start iptables configuration for ${podName}" (the agent restarted or its log rotated since the pod started?)`);
  }
  if (frame.kind === 'interleaved') {
    throw new MeshctlError(`the ${CNI_CONTAINER} log of ${where}: the setup of ${podName} is interleaved with ${frame.other}'s, so its lines cannot be told apart`);
  }
  const error = frame.lines.find((l) => /^\S+\s+error\s/.test(l));
  if (error) throw new MeshctlError(`the istio-cni plugin logged an error while setting up ${podName} (${where}): ${clip(error.replace(/^\S+\s+error\s+(?:cni-plugin\s+)?/, ''))}`);
  if (!frame.lines.some((l) => /the following input:\s*$/.test(l))) {
    throw new MeshctlError(`the ${CNI_CONTAINER} log of ${where} shows the setup of ${podName} without any iptables-restore input (rules already in place, or logged below info level)`);
  }
  return { text: frame.lines.join('\n') + '\n', agent: where };
}

async function findAgents(cluster: ClusterSource, node: string): Promise<ClusterObject[]> {
  const options = { labelSelector: CNI_LABEL, fieldSelector: `spec.nodeName=${node}` };
  let pods: ClusterObject[];
  try {
    pods = await cluster.list(POD, options);
  } catch (err) {
    // listing pods cluster-wide may be refused; the Istio namespace is where the chart installs it
    try {
      pods = await cluster.list(POD, { ...options, namespace: cluster.istioNamespace });
    } catch {
      throw new MeshctlError(`cannot list the istio-cni-node pods: ${firstLine((err as Error).message)}`);
    }
  }
  // the running one first (a DaemonSet may briefly hold two during a rollout)
  const running = (p: ClusterObject) => ((p as { status?: { phase?: string } }).status?.phase === 'Running' ? 0 : 1);
  return [...pods].sort((a, b) => running(a) - running(b));
}

type Frame = { kind: 'found'; lines: string[] } | { kind: 'none' } | { kind: 'interleaved'; other: string };

const START = /=+ Start iptables configuration for (\S+) =+/;
const END = /=+ End iptables configuration for (\S+) =+/;

/** The last Start…End frame of `podName` (a pod whose sandbox was recreated has several; the last one holds). */
export function podFrame(log: string, podName: string): Frame {
  const lines = plainLines(log);
  let found: Frame = { kind: 'none' };
  for (let i = 0; i < lines.length; i++) {
    const s = START.exec(lines[i]);
    if (!s || s[1] !== podName) continue;
    const frame: string[] = [lines[i]];
    let other: string | undefined;
    let closed = false;
    for (let j = i + 1; j < lines.length; j++) {
      const e = END.exec(lines[j]);
      const o = START.exec(lines[j]);
      if (e && e[1] === podName) {
        frame.push(lines[j]);
        closed = true;
        i = j;
        break;
      }
      if (o || (e && e[1] !== podName)) {
        other = (o ?? e)![1];
        break;
      }
      frame.push(lines[j]);
    }
    // an unclosed last frame is kept: the plugin may still be running, or the log was cut at capture
    found = other !== undefined ? { kind: 'interleaved', other } : { kind: 'found', lines: frame };
    if (!closed && other === undefined) break;
  }
  return found;
}

/** The agent's log as plain lines: JSON entries (`--log_as_json`) become `time level scope msg`, multi-line messages unfolded; trailing labels dropped. */
function plainLines(log: string): string[] {
  const out: string[] = [];
  for (const raw of log.split(/\r?\n/)) {
    if (raw.startsWith('{')) {
      try {
        const e = JSON.parse(raw) as { time?: string; level?: string; scope?: string; msg?: string };
        if (typeof e.msg === 'string') {
          const [first, ...rest] = e.msg.split('\n');
          out.push(`${e.time ?? ''}\t${e.level ?? 'info'}\t${first}`, ...rest);
          continue;
        }
      } catch {
        // not JSON after all: kept as written
      }
    }
    // the scope column goes (the parser reads istio-init's `time level message`); labels follow the
    // message after a tab (`COMMIT<TAB>pod=ns/name`)
    out.push(raw.replace(/^(\S+\t\w+)\tcni-plugin\t/, '$1\t').replace(/\t[\w.-]+=\S*(?: [\w.-]+=\S*)*$/, ''));
  }
  return out;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

function clip(s: string): string {
  return s.length > 160 ? s.slice(0, 157) + '...' : s;
}
