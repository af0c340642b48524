/**
 * A sidecar pod's rules in CNI mode (no istio-init container): the istio-cni plugin programs them when
 * the pod's sandbox is created, and its log reaches the istio-cni-node pod of the pod's node.
 *
 * What istio/istio's sources show (cni/pkg/plugin, cni/pkg/log/uds.go, tools/istio-iptables/pkg/capture):
 * - the plugin logs over a UDS to the node agent, which prints each entry under scope `cni-plugin` (`cni` in older agents) in the
 *   `install-cni` container of the `istio-cni-node` DaemonSet pod (label `k8s-app=istio-cni-node`);
 *   plain `time<TAB>level<TAB>scope<TAB>message`, or one JSON object a line with `--log_as_json`;
 * - `============= Start iptables configuration for <pod name> =============` and the matching End line
 *   frame the pod's setup (cni/pkg/plugin/sidecar_iptables_linux.go, `Program(podName, netns, …)`): the
 *   plugin's package logger writes them with the pod's name only: no namespace, netns or container id.
 *   In native nftables mode (sidecar_nftables_linux.go) the frame says `nftables` and holds no
 *   iptables-restore input. The namespace appears only on lines of the per-pod logger of
 *   cni/pkg/plugin/plugin.go (`doAddRun`: label `pod=<namespace>/<name>`, printed after the message as
 *   `<TAB>pod=ns/name`, or a `pod` field with --log_as_json; the agent's uds.go adds an entry's fields
 *   back as labels, in map order, so pod= may come among others): at info level only when a pod is excluded
 *   (no frame follows), at debug level also `Setting up redirect` right before the frame. So a frame's
 *   namespace is known only from such a line just before it; otherwise the pod is matched by name, and
 *   refused as uncertain when a pod of the same name runs on the node in another namespace;
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

/** What was read already, per cluster source: bug-report asks once per node, not per pod. */
const caches = new WeakMap<ClusterSource, { agents: Map<string, Promise<ClusterObject[]>>; logs: Map<string, Promise<string>> }>();

function cacheOf(cluster: ClusterSource) {
  let c = caches.get(cluster);
  if (!c) caches.set(cluster, (c = { agents: new Map(), logs: new Map() }));
  return c;
}

/** A CNI-mode pod: the plugin's frame names it by name only, so its namespace and node are needed to tell it apart. */
export interface CniTarget {
  name: string;
  namespace: string;
  node: string | undefined;
}

/**
 * The rules the istio-cni plugin logged for `pod`; a MeshctlError says what is missing (no agent on the
 * node, its log refused, no frame for the pod, a frame that may be a namesake's, an error inside the
 * frame, no rules).
 */
export async function cniRules(cluster: ClusterSource, pod: CniTarget): Promise<CniRules> {
  const { name: podName, node } = pod;
  if (!node) throw new MeshctlError('the pod is not scheduled on a node, so no istio-cni-node pod has its rules');
  const agents = await cniAgents(cluster, node);
  if (agents.length === 0) throw new MeshctlError(`no istio-cni-node pod (label ${CNI_LABEL}) on node ${node}`);
  const agent = agents[0];
  const where = `${agent.metadata?.namespace}/${agent.metadata?.name}`;
  const log = await agentLog(cluster, agent).catch((e: Error) => {
    if (e instanceof DamagedBundleError) throw e;
    throw new MeshctlError(`the ${CNI_CONTAINER} log of ${where}: ${firstLine(e.message)}`);
  });
  const frame = podFrame(log, podName, pod.namespace);
  if (frame.kind === 'none') {
    if (NFT_START(podName).test(log)) {
      throw new MeshctlError(`the ${CNI_CONTAINER} log of ${where} shows that the istio-cni plugin programmed nftables, not iptables, for ${podName} (native nftables mode); meshctl reads iptables rules only`);
    }
    throw new MeshctlError(`the ${CNI_CONTAINER} log of ${where} has no "Start iptables configuration for ${podName}"${frame.others.length ? ` of namespace ${pod.namespace} (only of ${frame.others.join(', ')})` : ''} (the agent restarted or its log rotated since the pod started?)`);
  }
  if (frame.kind === 'interleaved') {
    throw new MeshctlError(`the ${CNI_CONTAINER} log of ${where}: the setup of ${podName} is interleaved with ${frame.other}'s, so its lines cannot be told apart`);
  }
  if (frame.namespace === undefined) {
    // the frame names the pod without its namespace: it is this pod's only if no namesake runs on the node
    let same: ClusterObject[];
    try {
      same = await namesakes(cluster, podName, node);
    } catch (e) {
      if (e instanceof DamagedBundleError) throw e;
      throw new MeshctlError(`the ${CNI_CONTAINER} log of ${where} names ${podName} without its namespace, and the pods of node ${node} cannot be listed to rule out a pod of the same name in another namespace: ${firstLine((e as Error).message)}`);
    }
    const others = [...new Set(same.map((p) => p.metadata?.namespace ?? '').filter((ns) => ns !== pod.namespace))].sort();
    if (others.length > 0) {
      throw new MeshctlError(`uncertain: the ${CNI_CONTAINER} log of ${where} names ${podName} without its namespace, and node ${node} also runs a pod ${podName} in namespace ${others.join(', ')}: its frame may hold the other pod's rules`);
    }
  }
  const error = frame.lines.find((l) => /^\S+\s+error\s/.test(l));
  if (error) throw new MeshctlError(`the istio-cni plugin logged an error while setting up ${podName} (${where}): ${clip(error.replace(/^\S+\s+error\s+(?:cni-plugin\s+)?/, ''))}`);
  if (!frame.lines.some((l) => /the following input:\s*$/.test(l))) {
    throw new MeshctlError(`the ${CNI_CONTAINER} log of ${where} shows the setup of ${podName} without any iptables-restore input (rules already in place, or logged below info level)`);
  }
  return { text: frame.lines.join('\n') + '\n', agent: where };
}

/**
 * The istio-cni-node pods of `node` (by their label, wherever they run: istio-system, kube-system …), the
 * running one first. The one lookup of a CNI-mode pod's agent, for the live commands, a bundle and
 * bug-report alike; asked once per node per cluster source.
 */
export function cniAgents(cluster: ClusterSource, node: string): Promise<ClusterObject[]> {
  const cache = cacheOf(cluster).agents;
  let pending = cache.get(node);
  if (!pending) {
    pending = findAgents(cluster, node);
    cache.set(node, pending);
  }
  return pending;
}

/** The agent's install-cni log, read once per agent per cluster source. */
export function agentLog(cluster: ClusterSource, agent: ClusterObject): Promise<string> {
  const cache = cacheOf(cluster).logs;
  const key = `${agent.metadata?.namespace}/${agent.metadata?.name}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = cluster.podLogs({ name: agent.metadata?.name ?? '', namespace: agent.metadata?.namespace ?? '' }, CNI_CONTAINER);
    cache.set(key, pending);
  }
  return pending;
}

/** The pods named `name` on `node`, in every namespace: whose frame a frame without a namespace may be. */
export function namesakes(cluster: ClusterSource, name: string, node: string): Promise<ClusterObject[]> {
  return cluster.list(POD, { fieldSelector: `spec.nodeName=${node},metadata.name=${name}` });
}

async function findAgents(cluster: ClusterSource, node: string): Promise<ClusterObject[]> {
  const options = { labelSelector: CNI_LABEL, fieldSelector: `spec.nodeName=${node}` };
  let pods: ClusterObject[];
  try {
    pods = await cluster.list(POD, options);
  } catch (err) {
    if (err instanceof DamagedBundleError) throw err;
    // listing pods cluster-wide may be refused; the Istio namespace is where the chart installs it
    try {
      pods = await cluster.list(POD, { ...options, namespace: cluster.istioNamespace });
    } catch (err2) {
      if (err2 instanceof DamagedBundleError) throw err2;
      throw new MeshctlError(`cannot list the istio-cni-node pods: ${firstLine((err as Error).message)}`);
    }
  }
  // the running one first (a DaemonSet may briefly hold two during a rollout)
  const running = (p: ClusterObject) => ((p as { status?: { phase?: string } }).status?.phase === 'Running' ? 0 : 1);
  return [...pods].sort((a, b) => running(a) - running(b));
}

type Frame =
  | { kind: 'found'; lines: string[]; namespace?: string }
  /** `others`: the namespaces of frames of that name that are not the pod's */
  | { kind: 'none'; others: string[] }
  | { kind: 'interleaved'; other: string };

const START = /=+ Start iptables configuration for (\S+) =+/;
const END = /=+ End iptables configuration for (\S+) =+/;
const NFT_START = (name: string) => new RegExp(`=+ Start nftables configuration for ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} =+`);

/**
 * The last Start…End frame of `podName` (a pod whose sandbox was recreated has several; the last one
 * holds). The plugin names the pod in the frame by its name only; its namespace is known when a line
 * labelled `pod=<namespace>/<name>` (the plugin's per-pod logger) of the same pod comes just before the
 * frame (nothing of another pod between) or inside it. With `namespace`, frames known to be of another
 * namespace are passed over; `namespace` on the result is undefined when the log does not say.
 */
export function podFrame(log: string, podName: string, namespace?: string): Frame {
  const lines = plainLines(log);
  let found: Frame = { kind: 'none', others: [] };
  const others = new Set<string>();
  // the namespace of the last line labelled with a pod of this name, until another pod shows up
  let labelled: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const { text, pod } = lines[i];
    if (pod) labelled = pod.name === podName ? pod.namespace : undefined;
    const s = START.exec(text);
    if (!s) continue;
    if (s[1] !== podName) {
      labelled = undefined;
      continue;
    }
    const frame: string[] = [text];
    let ns = labelled;
    let other: string | undefined;
    let closed = false;
    for (let j = i + 1; j < lines.length; j++) {
      const l = lines[j];
      const e = END.exec(l.text);
      const o = START.exec(l.text);
      if (l.pod?.name === podName) ns ??= l.pod.namespace;
      if (e && e[1] === podName) {
        frame.push(l.text);
        closed = true;
        i = j;
        break;
      }
      if (o || (e && e[1] !== podName)) {
        other = (o ?? e)![1];
        break;
      }
      frame.push(l.text);
    }
    labelled = undefined;
    if (namespace !== undefined && ns !== undefined && ns !== namespace) {
      others.add(ns);
      if (!closed && other === undefined) break;
      continue;
    }
    // an unclosed last frame is kept: the plugin may still be running, or the log was cut at capture
    found = other !== undefined ? { kind: 'interleaved', other } : { kind: 'found', lines: frame, ...(ns !== undefined ? { namespace: ns } : {}) };
    if (!closed && other === undefined) break;
  }
  if (found.kind === 'none') found.others = [...others].sort();
  return found;
}

/** The pod a line is labelled with (`pod=<namespace>/<name>`, the plugin's per-pod logger). */
interface Line {
  text: string;
  pod?: { namespace: string; name: string };
}

/**
 * The agent's log as plain lines: JSON entries (`--log_as_json`) become `time level msg`, multi-line
 * messages unfolded; the scope column and trailing labels dropped (the parser reads istio-init's
 * `time level message`), the `pod` label kept aside.
 */
function plainLines(log: string): Line[] {
  const out: Line[] = [];
  for (const raw of log.split(/\r?\n/)) {
    if (raw.startsWith('{')) {
      try {
        const e = JSON.parse(raw) as { time?: string; level?: string; scope?: string; msg?: string; pod?: unknown };
        if (typeof e.msg === 'string') {
          const [first, ...rest] = e.msg.split('\n');
          const pod = typeof e.pod === 'string' ? podLabel(e.pod) : undefined;
          out.push({ text: `${e.time ?? ''}\t${e.level ?? 'info'}\t${first}`, ...(pod ? { pod } : {}) }, ...rest.map((text) => ({ text })));
          continue;
        }
      } catch {
        // not JSON after all: kept as written
      }
    }
    // labels follow the message after a tab (`excluded …<TAB>pod=ns/name`)
    const labels = /\t([\w.-]+=\S*(?:[ \t][\w.-]+=\S*)*)$/.exec(raw);
    const pod = labels ? podLabel(/(?:^|[ \t])pod=(\S+)/.exec(labels[1])?.[1]) : undefined;
    const text = (labels ? raw.slice(0, labels.index) : raw).replace(/^(\S+\t\w+)\tcni(?:-plugin)?\t/, '$1\t');
    out.push({ text, ...(pod ? { pod } : {}) });
  }
  return out;
}

function podLabel(value: string | undefined): Line['pod'] {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(value ?? '');
  return m ? { namespace: m[1], name: m[2] } : undefined;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

function clip(s: string): string {
  return s.length > 160 ? s.slice(0, 157) + '...' : s;
}
