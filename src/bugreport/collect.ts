import { describeError } from '../errors.js';
import { redactSecrets } from '../envoy/secrets.js';
import { USE_WAYPOINT, USE_WAYPOINT_NAMESPACE } from '../ambient/labels.js';
import { CNI_LABEL } from '../iptables/cni.js';
import { type PodObject, podRules } from '../iptables/source.js';
import { ISTIOD_DEBUG_PORT } from '../istiod/discover.js';
import { CLUSTER_SCOPE, callKey } from '../kube/bundle-cluster.js';
import {
  CONFIGMAP, type ClusterObject, type ClusterSource, NAMESPACE, POD, type ResourceType, SERVICE, resourceName,
} from '../kube/cluster.js';
import { ForbiddenError, NotFoundError } from '../kube/errors.js';
import { atVersion } from '../kube/kinds.js';
import { DEFAULT_PROXY_ADMIN_PORT, PROXY_CONTAINER } from '../kube/live-cluster.js';
import { podReady } from '../kube/pods.js';
import type { PodTarget } from '../kube/portforward.js';
import { toRecordedError } from '../kube/recorded.js';
import { newestServed } from '../kube/served.js';
import { matchesLabels, parseLabelSelector } from '../kube/selector.js';
import type { Progress } from '../output/progress.js';
import type { CallRecord, Failure, GetRecord, PerNamespace, RecordedError, ResourceRecord } from '../source/bundle/format.js';
import type { BundleWriter } from '../source/bundle/writer.js';
import {
  CLUSTER_KINDS, CLUSTER_SCOPED_KINDS, CRD, GATEWAY_API_CRDS, ISTIOD_PATHS, MESH_KINDS, NAMESPACE_KINDS, PROXY_PATHS, ZTUNNEL_ADMIN_PORT,
  ZTUNNEL_PATHS, isMeshConfigMap,
} from './kinds.js';
import { DEFAULT_MAX_NAMESPACES } from './limits.js';

export interface CollectOptions {
  /** Namespaces whose pods are collected, or every namespace. */
  namespaces: string[] | 'all';
  labelSelector?: string;
  includeIstiod: boolean;
  includeZtunnel: boolean;
  /** Pods (and lists) worked on at once. */
  concurrency: number;
  /** The bundle may not grow past this many bytes. */
  maxBytes?: number;
  /** With every namespace selected: the most namespaces listed one by one for a kind refused across all namespaces. */
  maxNamespaces?: number;
  proxyAdminPort?: number;
  /** A progress display per phase (`resources`, `istiod`, `ztunnel`, `proxies`) of `total` items. */
  progress?: (label: string, total: number) => Progress;
  now?: () => Date;
}

export interface CollectResult {
  resources: ResourceRecord[];
  perNamespace: PerNamespace[];
  calls: CallRecord[];
  failures: Failure[];
  pods: { proxies: string[]; istiods: string[]; ztunnels: string[]; skipped: Failure[] };
  stopped?: string;
}

/** Thrown inside tasks once collection has been stopped: they end without recording anything more. */
class Stopped extends Error {}

/** How a list is asked: a 404 thrown rather than recorded, the API server's label selector, why it was taken. */
interface ListHow {
  unserved?: 'throw';
  labelSelector?: string;
  because?: string;
}

/** Room kept for the index when judging --max-size: a guess at its size so far (it is stored compressed), and some. */
const INDEX_RESERVE = 8 * 1024;

/**
 * Collects a bundle from a live cluster into `writer`: the resource lists, then istiod's and ztunnel's
 * debug answers, then every selected proxy (its admin answers, its iptables rules, istiod's view of
 * it), `concurrency` at a time. Every pod read goes through a recording ClusterSource, so that the
 * bundle answers later exactly the calls the commands make, failures included. `stop(reason)` (a time
 * limit, Ctrl-C) ends collection cleanly: nothing new starts, what is in flight is recorded as stopped.
 */
export class Collector {
  readonly calls: CallRecord[] = [];
  readonly resources: ResourceRecord[] = [];
  readonly failures: Failure[] = [];
  readonly perNamespace: PerNamespace[] = [];
  readonly pods: CollectResult['pods'] = { proxies: [], istiods: [], ztunnels: [], skipped: [] };
  stopped?: string;
  private readonly names = new Set<string>();
  /** Pods that the proxies' lookups found (a CNI-mode pod's istio-cni-node pod, its namesakes on the node), by `ns/name`. */
  private readonly lookedUp = new Map<string, ClusterObject>();
  private readonly recording: ClusterSource;
  private readonly now: () => Date;

  constructor(
    private readonly live: ClusterSource,
    private readonly writer: BundleWriter,
    private readonly opts: CollectOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
    this.recording = this.record(live);
  }

  stop(reason: string): void {
    this.stopped ??= reason;
  }

  async run(): Promise<CollectResult> {
    const selector = this.opts.labelSelector ? parseLabelSelector(this.opts.labelSelector) : [];
    const podsByNs = await this.collectResources();
    const istioNs = this.live.istioNamespace;

    // the pods whose data is collected
    const wanted = (ns: string) => this.opts.namespaces === 'all' || this.opts.namespaces.includes(ns);
    const proxies: ClusterObject[] = [];
    for (const [ns, pods] of podsByNs) {
      if (!wanted(ns)) continue;
      // ztunnel's container is named istio-proxy too; it is collected as a ztunnel below, not as an Envoy
      for (const p of pods) if (hasProxy(p) && p.metadata?.labels?.app !== 'ztunnel' && matchesLabels(selector, p.metadata?.labels)) proxies.push(p);
    }
    const istioPods = podsByNs.get(istioNs) ?? [];
    const istiods = this.opts.includeIstiod ? istioPods.filter((p) => p.metadata?.labels?.app === 'istiod') : [];
    const ztunnels = this.opts.includeZtunnel ? istioPods.filter((p) => p.metadata?.labels?.app === 'ztunnel') : [];
    if (this.opts.includeIstiod && istiods.length === 0 && podsByNs.has(istioNs)) {
      this.failures.push({ what: `istiod in namespace ${istioNs}`, reason: 'no pod with label app=istiod' });
    }

    // istiod first: its syncz says which replica serves each proxy
    const connectedTo = new Map<string, string>();
    const label = (role: string) => (p: PodTarget) => `${role} ${name(p)}`;
    await this.each('istiod', istiods.filter((p) => this.reachable(p, 'istiod', true)).map(target), async (pod) => {
      for (const path of ISTIOD_PATHS) {
        const r = await this.get(pod, ISTIOD_DEBUG_PORT, path, `istiod ${name(pod)}`);
        if (path === '/debug/syncz' && r?.status === 200) {
          for (const proxy of proxyIds(r.body)) connectedTo.set(proxy, pod.name);
        }
      }
      this.pods.istiods.push(`${pod.namespace}/${pod.name}`);
    }, label('istiod'));
    const readyIstiods = istiods.filter((p) => podReady(p as never)).map(target);

    await this.each('ztunnel', ztunnels.filter((p) => this.reachable(p, 'ztunnel', false)).map(target), async (pod) => {
      for (const path of ZTUNNEL_PATHS) await this.get(pod, ZTUNNEL_ADMIN_PORT, path, `ztunnel ${name(pod)}`);
      this.pods.ztunnels.push(`${pod.namespace}/${pod.name}`);
    }, label('ztunnel'));

    const port = this.opts.proxyAdminPort ?? DEFAULT_PROXY_ADMIN_PORT;
    await this.each('proxies', proxies.filter((p) => this.reachable(p, 'proxy', false)).map(target), async (pod) => {
      const what = `pod ${name(pod)}`;
      for (const path of PROXY_PATHS) await this.get(pod, port, path, what);
      this.check();
      await podRules(this.recording, { name: pod.name, namespace: pod.namespace, pod: pod.pod as PodObject }).catch((err: unknown) => {
        if (err instanceof Stopped) throw err;
        this.failures.push({ what: `iptables rules of ${what}`, reason: describeError(err) });
      });
      if (this.opts.includeIstiod && readyIstiods.length > 0) {
        const proxyID = `${pod.name}.${pod.namespace}`;
        const path = `/debug/config_dump?proxyID=${encodeURIComponent(proxyID)}`;
        const known = connectedTo.get(proxyID);
        const order = [...readyIstiods.filter((i) => i.name === known), ...readyIstiods.filter((i) => i.name !== known)];
        let found = false;
        for (const istiod of order) {
          const r = await this.get(istiod, ISTIOD_DEBUG_PORT, path, `istiod ${name(istiod)}`, true);
          if (r?.status === 200) {
            found = true;
            break;
          }
        }
        if (!found) this.failures.push({ what: `istiod's config for ${what}`, reason: 'no istiod answered /debug/config_dump for it' });
      }
      this.pods.proxies.push(`${pod.namespace}/${pod.name}`);
    }, label('proxy'));
    await this.keepLookedUp();
    // in the order the kinds are listed, whichever list ended first
    const order = [...NAMESPACE_KINDS, ...CLUSTER_KINDS, ...MESH_KINDS].map((t) => `${t.group}/${t.plural}`);
    const rank = (n: PerNamespace) => order.indexOf(`${n.group}/${n.plural}`);
    this.perNamespace.sort((a, b) => rank(a) - rank(b));
    return { resources: this.resources, perNamespace: this.perNamespace, calls: this.calls, failures: this.failures, pods: this.pods, stopped: this.stopped };
  }

  /** Bytes written so far (for the summary). */
  get bytes(): number {
    return this.writer.bytes;
  }

  // ---- resources

  /** Every list, written as it comes; returns the pods it read, by namespace. */
  private async collectResources(): Promise<Map<string, ClusterObject[]>> {
    const istioNs = this.live.istioNamespace;
    const selected = this.opts.namespaces;
    const podsByNs = new Map<string, ClusterObject[]>();
    type Job = () => Promise<void>;
    const jobs: Job[] = [];

    let namespaces: ClusterObject[] = [];
    // with -A, a kind refused across all namespaces waits for this list to be listed namespace by namespace
    let listed!: (ns: ClusterObject[] | undefined) => void;
    const namespaceList = new Promise<ClusterObject[] | undefined>((resolve) => (listed = resolve));
    jobs.push(async () => {
      let items: ClusterObject[] | undefined;
      try {
        items = await this.list(NAMESPACE, undefined);
      } finally {
        listed(items);
      }
      namespaces = items ?? [];
      if (items === undefined && selected !== 'all') {
        // may not list namespaces: the selected ones, one by one
        const got: ClusterObject[] = [];
        for (const ns of selected) {
          const o = await this.live.get(NAMESPACE, ns).catch(() => undefined);
          if (o) got.push(o);
        }
        if (got.length > 0) await this.writeList(NAMESPACE, 'all', got, 'only the selected namespaces (namespaces may not be listed)');
        namespaces = got;
      }
    });
    const scopes = selected === 'all' ? ['all'] : [...new Set([...selected, istioNs])];
    const wide = (t: ResourceType, how: ListHow = {}) => this.listEveryNamespace(t, namespaceList, how);
    for (const t of NAMESPACE_KINDS) {
      for (const scope of scopes) {
        jobs.push(async () => {
          const items = scope === 'all' ? await wide(t) : await this.list(t, scope);
          if (t === POD && items) for (const p of items) push(podsByNs, p.metadata?.namespace ?? '', p);
        });
      }
    }
    for (const t of CLUSTER_KINDS) jobs.push(async () => void (selected === 'all' ? await wide(t) : await this.listWide(t, selected, istioNs)));
    for (const k of MESH_KINDS) jobs.push(() => this.listMesh(k, selected, istioNs, wide));
    for (const t of CLUSTER_SCOPED_KINDS) jobs.push(async () => void (await this.list(t, undefined)));
    jobs.push(() => this.listByName(CRD, GATEWAY_API_CRDS, 'the Gateway API CRDs whose version Istio checks'));
    jobs.push(async () => {
      await this.list(CONFIGMAP, istioNs, (o) => isMeshConfigMap(o.metadata?.name ?? ''), 'the mesh ConfigMaps only (istio, istio-sidecar-injector, and per revision)');
    });
    // the Istio namespace's pods are needed to find istiod and ztunnel even when not selected
    await this.each('resources', jobs, (job) => job());
    if (selected !== 'all') {
      await this.listWaypointUsers(scopes, namespaces).catch((err: unknown) => {
        if (!(err instanceof Stopped)) throw err;
      });
    }
    return podsByNs;
  }

  /**
   * With some namespaces selected, the pods elsewhere that may use a waypoint of theirs, so that `waypoint
   * list|status` answer from the bundle as live (src/ambient/live.ts reads the same): the pods labelled
   * istio.io/use-waypoint in every namespace (one list by that label, as the command asks it), and every
   * pod of a namespace whose label names a waypoint in a namespace listed (its Services too, when the
   * cluster-wide Service list was refused). A refusal is recorded as any list's and replayed.
   */
  private async listWaypointUsers(scopes: string[], namespaces: ClusterObject[]): Promise<void> {
    await this.list(POD, undefined, undefined, undefined, { labelSelector: USE_WAYPOINT });
    const servicesWhole = this.resources.some((r) => r.plural === SERVICE.plural && r.group === SERVICE.group && r.scope === 'all' && !r.error);
    for (const n of namespaces) {
      const name = n.metadata?.name ?? '';
      const labels = n.metadata?.labels ?? {};
      const label = labels[USE_WAYPOINT];
      if (label === undefined || label === 'none' || scopes.includes(name)) continue;
      if (!scopes.includes(labels[USE_WAYPOINT_NAMESPACE] ?? name)) continue;
      const why = `the pods of a namespace whose ${USE_WAYPOINT} label names a waypoint in a namespace listed`;
      await this.list(POD, name, undefined, undefined, { because: why });
      if (!servicesWhole) await this.list(SERVICE, name);
    }
  }

  /**
   * The pods the proxies' lookups found outside the namespaces whose pods are listed whole — in CNI mode
   * the istio-cni-node pod of the pod's node, wherever it runs (kube-system on some platforms), and any
   * pod of the same name on that node — kept as a filtered pod list of their namespace, so that the
   * bundle's lookups find what the live ones found.
   */
  private async keepLookedUp(): Promise<void> {
    const whole = new Set(this.resources.filter((r) => r.group === POD.group && r.plural === POD.plural && !r.labelSelector).map((r) => r.scope));
    if (whole.has('all')) return;
    const byNs = new Map<string, ClusterObject[]>();
    for (const o of this.lookedUp.values()) {
      const ns = o.metadata?.namespace ?? '';
      if (!whole.has(ns)) push(byNs, ns, o);
    }
    try {
      for (const [ns, pods] of [...byNs].sort(([a], [b]) => a.localeCompare(b))) {
        await this.writeList(POD, ns, pods, `only the pods the proxies' lookups found: the istio-cni-node pods (${CNI_LABEL}) of CNI-mode pods' nodes, and pods of the same name as a CNI-mode pod on its node`, true);
      }
    } catch (err) {
      if (!(err instanceof Stopped)) throw err;
    }
  }

  /** Some namespaces selected: cluster-wide, else each selected namespace (and the Istio one) where cluster-wide is forbidden. */
  private async listWide(t: ResourceType, selected: string[], istioNs: string): Promise<void> {
    const items = await this.list(t, undefined, undefined, undefined, { quiet: true });
    if (items !== undefined) return;
    for (const ns of new Set([...selected, istioNs])) await this.list(t, ns);
  }

  /**
   * Every namespace (-A): a namespaced kind across all namespaces, else, when that is refused (403) but
   * namespaces may be listed, namespace by namespace (the Istio namespace first, then by name, at most
   * `maxNamespaces`), as an SRE whose RBAC is granted per namespace reads them. The cluster-wide refusal is
   * recorded (a bundle refuses that list again, as live) without counting as a failure; each namespace's
   * list is recorded as any list is, its refusal included. Returns what was read, from every namespace.
   */
  private async listEveryNamespace(t: ResourceType, namespaceList: Promise<ClusterObject[] | undefined>, how: ListHow = {}): Promise<ClusterObject[] | undefined> {
    const wide = await this.attempt(t, undefined, undefined, undefined, how);
    if (!('error' in wide)) return wide.items;
    const namespaces = wide.error instanceof ForbiddenError && t.namespaced ? await namespaceList : undefined;
    if (namespaces === undefined) {
      this.refused(t, undefined, undefined, wide.error, how);
      return undefined;
    }
    const istioNs = this.live.istioNamespace;
    const names = [...new Set(namespaces.map((n) => n.metadata?.name ?? '').filter((n) => n))]
      .sort((a, b) => (a === istioNs ? -1 : b === istioNs ? 1 : a.localeCompare(b)));
    const max = this.opts.maxNamespaces ?? DEFAULT_MAX_NAMESPACES;
    const tried = names.slice(0, max);
    const items: ClusterObject[] = [];
    // refusals are recorded once the version is known to be served (a 404 thrown here tries the next one)
    const refusals: [string, unknown][] = [];
    let listed = 0;
    const conclude = (cut?: string) => {
      this.resources.push(record(t, 'all', {}, 0, undefined, toRecordedError(wide.error)));
      for (const [ns, err] of refusals) this.refused(t, ns, undefined, err, how);
      const note: PerNamespace = { group: t.group, version: t.version, plural: t.plural, kind: t.kind, namespaces: listed, of: names.length, refused: refusals.map(([ns]) => ns) };
      if (cut) {
        note.cut = cut;
        this.failures.push({ what: `list ${resourceName(t)} namespace by namespace (refused across all namespaces)`, reason: cut });
      }
      this.perNamespace.push(note);
    };
    try {
      for (const ns of tried) {
        const r = await this.attempt(t, ns, undefined, undefined, how);
        listed++;
        if ('error' in r) refusals.push([ns, r.error]);
        else items.push(...r.items);
      }
    } catch (err) {
      // stopped (time or size limit, Ctrl-C): what was listed is said; a 404 is the version's, recorded by the caller
      if (err instanceof Stopped) conclude(`stopped after ${listed} of ${names.length} namespaces: ${this.stopped}`);
      throw err;
    }
    conclude(tried.length < names.length ? `only the first ${max} of ${names.length} namespaces were listed (--max-namespaces ${max})` : undefined);
    return items;
  }

  /**
   * A mesh kind in the newest version served, cluster-wide, else (forbidden, some namespaces selected) per
   * namespace; a failure is recorded and said as any list's. Not served in any version: the 404 is recorded
   * (a bundle answers it back, and commands take the kind as not installed), and is no failure.
   */
  private async listMesh(
    k: (typeof MESH_KINDS)[number], selected: string[] | 'all', istioNs: string,
    wide: (t: ResourceType, how: ListHow) => Promise<ClusterObject[] | undefined>,
  ): Promise<void> {
    const listed = await newestServed(k, async (t) => {
      if (selected === 'all') return void (await wide(t, { unserved: 'throw' }));
      const items = await this.list(t, undefined, undefined, undefined, { quiet: k.namespaced, unserved: 'throw' });
      if (items !== undefined || !k.namespaced) return;
      // refused cluster-wide: each selected namespace (and the Istio one)
      for (const ns of new Set([...selected, istioNs])) await this.list(t, ns, undefined, undefined, { unserved: 'throw' });
    });
    if (!listed.served) this.resources.push(record(atVersion(k, k.versions[0]), 'all', {}, 0, undefined, toRecordedError(listed.notFound)));
  }

  /** Cluster-scoped objects read one by name (those that exist), written as one list; a refusal is recorded for the list. */
  private async listByName(t: ResourceType, names: string[], filter: string): Promise<void> {
    const found: ClusterObject[] = [];
    for (const name of names) {
      this.check();
      try {
        found.push(await this.live.get(t, name));
      } catch (err) {
        if (err instanceof Stopped || this.stopped) throw new Stopped();
        if (err instanceof NotFoundError) continue;
        this.resources.push(record(t, 'all', {}, 0, filter, toRecordedError(err)));
        this.failures.push({ what: `get ${resourceName(t)} ${name}`, reason: describeError(err) });
        return;
      }
    }
    await this.writeList(t, 'all', found, filter);
  }

  /**
   * One list, written (split by namespace); undefined when it failed (the failure is recorded, unless
   * `quiet` and refused because a narrower fallback follows). `unserved: 'throw'`: a 404 is thrown, not
   * recorded (an older version of the kind is tried next). `labelSelector`: the API server's selector, kept
   * in the record. `because`: why a whole list outside the selection was taken (for failures).
   */
  private async list(
    t: ResourceType,
    namespace: string | undefined,
    keep?: (o: ClusterObject) => boolean,
    filter?: string,
    how: ListHow & { quiet?: boolean } = {},
  ): Promise<ClusterObject[] | undefined> {
    const r = await this.attempt(t, namespace, keep, filter, how);
    if (!('error' in r)) return r.items;
    if (!(how.quiet && r.error instanceof ForbiddenError)) this.refused(t, namespace, filter, r.error, how);
    return undefined;
  }

  /** One list, written; or why it failed, not recorded yet (a 404 thrown when `unserved: 'throw'`). */
  private async attempt(
    t: ResourceType, namespace: string | undefined, keep: ((o: ClusterObject) => boolean) | undefined, filter: string | undefined, how: ListHow,
  ): Promise<{ items: ClusterObject[] } | { error: unknown }> {
    this.check();
    const selector = how.labelSelector;
    try {
      const items = await this.live.list(t, { ...(namespace !== undefined ? { namespace } : {}), ...(selector ? { labelSelector: selector } : {}) });
      const kept = keep ? items.filter(keep) : items;
      await this.writeList(t, namespace ?? 'all', kept, filter, false, selector);
      return { items: kept };
    } catch (err) {
      if (err instanceof Stopped || this.stopped) throw new Stopped();
      if (how.unserved === 'throw' && err instanceof NotFoundError) throw err;
      return { error: err };
    }
  }

  /** A failed list, recorded (a bundle answers it back) and, unless a 404 (a kind not served), counted as a failure. */
  private refused(t: ResourceType, namespace: string | undefined, filter: string | undefined, err: unknown, how: ListHow): void {
    const selector = how.labelSelector;
    this.resources.push({ ...record(t, namespace ?? 'all', {}, 0, filter, toRecordedError(err)), ...(selector ? { labelSelector: selector } : {}) });
    const what = `list ${resourceName(t)}${namespace ? ` in namespace ${namespace}` : ''}${selector ? ` labelled ${selector}` : ''}${how.because ? ` (${how.because})` : ''}`;
    if (!(err instanceof NotFoundError)) this.failures.push({ what, reason: describeError(err) });
  }

  private async writeList(t: ResourceType, scope: string, items: ClusterObject[], filter?: string, partial = false, labelSelector?: string): Promise<void> {
    const byNs = new Map<string, ClusterObject[]>();
    if (scope !== 'all' && t.namespaced) byNs.set(scope, []);
    for (const o of items) push(byNs, t.namespaced ? o.metadata?.namespace ?? '' : CLUSTER_SCOPE, o);
    const members: Record<string, string> = {};
    for (const [ns, objs] of byNs) {
      if (objs.length === 0) continue;
      const member = this.memberName(`resources/${ns}/${resourceName(t)}.json`);
      const text = JSON.stringify(redactSecrets({ apiVersion: 'v1', kind: 'List', items: objs }), null, 1) + '\n';
      if (!(await this.write(member, text))) throw new Stopped();
      members[ns] = member;
    }
    this.resources.push({ ...record(t, scope, members, items.length, filter), ...(partial ? { partial } : {}), ...(labelSelector ? { labelSelector } : {}) });
  }

  // ---- pods

  /** A GET through the recording cluster; undefined when it failed (recorded, and counted as a failure unless `expectMisses`). */
  private async get(pod: PodTarget, port: number, path: string, what: string, expectMisses = false): Promise<{ status: number; body: Buffer } | undefined> {
    try {
      const r = await this.recording.podGet(pod, port, path);
      if (r.status !== 200 && !expectMisses) this.failures.push({ what: `${what} GET ${path}`, reason: `answered ${r.status}: ${r.body.toString('utf8').trim().split('\n')[0]}` });
      return r;
    } catch (err) {
      if (err instanceof Stopped) throw err;
      this.failures.push({ what: `${what} GET ${path}`, reason: describeError(err) });
      return undefined;
    }
  }

  /** Running (and ready, for istiod) and not terminating: else skipped, with why. */
  private reachable(p: ClusterObject, role: string, needReady: boolean): boolean {
    const pod = p as { metadata?: { name?: string; namespace?: string; deletionTimestamp?: string }; status?: { phase?: string } };
    const where = `${role} ${pod.metadata?.name}.${pod.metadata?.namespace}`;
    let reason: string | undefined;
    if (pod.metadata?.deletionTimestamp) reason = 'terminating';
    else if (pod.status?.phase !== 'Running') reason = `${pod.status?.phase ?? 'Unknown'}, not Running`;
    else if (needReady && !podReady(p as never)) reason = 'running but not ready';
    if (reason) this.pods.skipped.push({ what: where, reason });
    return reason === undefined;
  }

  /**
   * Runs `fn` over `items`, `concurrency` at once, with progress; once stopped, running ones end and no
   * more start. `skipped` names an item that was not (fully) collected, for the index.
   */
  private async each<T>(phase: string, items: T[], fn: (item: T) => Promise<void>, skipped?: (item: T) => string): Promise<void> {
    const progress = this.opts.progress?.(phase, items.length);
    let done = 0;
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++];
        if (this.stopped) {
          if (skipped) this.pods.skipped.push({ what: skipped(item), reason: `not collected: ${this.stopped}` });
          continue;
        }
        try {
          await fn(item);
        } catch (err) {
          if (!(err instanceof Stopped)) throw err;
          if (skipped) this.pods.skipped.push({ what: skipped(item), reason: `incomplete: ${this.stopped}` });
        }
        progress?.update(++done, `${(this.writer.bytes / 1048576).toFixed(1)} MB`);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(Math.max(1, this.opts.concurrency), items.length) }, worker));
    } finally {
      progress?.done();
    }
  }

  private check(): void {
    if (this.stopped) throw new Stopped();
  }

  /** A member name not used yet (`-2`, `-3` … when one is). */
  private memberName(wanted: string): string {
    let nameTaken = wanted;
    for (let i = 2; this.names.has(nameTaken); i++) nameTaken = wanted.replace(/(\.[a-z]+)?$/, `-${i}$1`);
    this.names.add(nameTaken);
    return nameTaken;
  }

  /** Writes a member unless it would break --max-size (then collection stops). */
  private async write(member: string, data: Buffer | string): Promise<boolean> {
    const reserve = INDEX_RESERVE + (this.calls.length + this.resources.length + Object.keys(this.writer.members).length) * 120 + this.pods.skipped.length * 60;
    const ok = await this.writer.add(member, data, this.opts.maxBytes, reserve);
    if (!ok) this.stop(`the size limit (--max-size ${this.opts.maxBytes} bytes) was reached`);
    return ok;
  }

  /** The live cluster, with every pod GET, log and exec answered and recorded into the bundle. */
  private record(live: ClusterSource): ClusterSource {
    const at = () => this.now().toISOString();
    const failed = (rec: CallRecord, err: unknown): never => {
      rec.error = this.stopped ? { message: `not collected: ${this.stopped}`, type: 'stopped' } : toRecordedError(err);
      this.calls.push(rec);
      throw this.stopped ? new Stopped() : err;
    };
    const keep = async (rec: CallRecord, member: string, data: Buffer | string): Promise<void> => {
      const name = this.memberName(member);
      if (await this.write(name, data)) rec.member = name;
      else rec.error = { message: `not kept: ${this.stopped}`, type: 'stopped' };
    };
    return {
      ...live,
      list: async (t, options) => {
        this.check();
        const items = await live.list(t, options);
        if (t.group === POD.group && t.plural === POD.plural) {
          for (const o of items) this.lookedUp.set(`${o.metadata?.namespace}/${o.metadata?.name}`, o);
        }
        return items;
      },
      podGet: async (pod, port, path, admin) => {
        this.check();
        const rec: GetRecord = { call: 'get', pod: `${pod.namespace}/${pod.name}`, port, path, at: at() };
        let r;
        try {
          r = await live.podGet(pod, port, path, admin);
        } catch (err) {
          return failed(rec, err);
        }
        rec.status = r.status;
        if (r.status === 200) await keep(rec, memberForGet(pod, port, path), redactAnswer(r.body));
        else rec.body = r.body.toString('utf8').slice(0, 4096);
        this.push(rec);
        return r;
      },
      podLogs: async (pod, container, options) => {
        this.check();
        const rec: CallRecord = { call: 'logs', pod: `${pod.namespace}/${pod.name}`, container, at: at() };
        let text: string;
        try {
          text = await live.podLogs(pod, container, options);
        } catch (err) {
          return failed(rec, err);
        }
        await keep(rec, `pods/${pod.namespace}/${pod.name}/logs/${slug(container)}.log`, redactSecrets(text));
        this.push(rec);
        return text;
      },
      podExec: async (pod, container, argv) => {
        this.check();
        const rec: CallRecord = { call: 'exec', pod: `${pod.namespace}/${pod.name}`, container, argv, at: at() };
        let r;
        try {
          r = await live.podExec(pod, container, argv);
        } catch (err) {
          return failed(rec, err);
        }
        rec.exitCode = r.exitCode;
        if (r.stderr) rec.stderr = redactSecrets(r.stderr).slice(0, 4096);
        if (r.message) rec.message = r.message;
        if (r.stdout.length > 0) await keep(rec, `pods/${pod.namespace}/${pod.name}/exec/${slug(container)}/${slug(argv.join(' '))}.out`, redactSecrets(r.stdout.toString('utf8')));
        this.push(rec);
        return r;
      },
    };
  }

  /** A call recorded twice (the same GET asked again) keeps its first answer. */
  private push(rec: CallRecord): void {
    if (!this.calls.some((c) => callKey(c) === callKey(rec))) this.calls.push(rec);
  }
}

function record(t: ResourceType, scope: string, members: Record<string, string>, count: number, filter?: string, error?: RecordedError): ResourceRecord {
  return {
    group: t.group, version: t.version, plural: t.plural, kind: t.kind, namespaced: t.namespaced, scope, members, count,
    ...(filter ? { filter } : {}),
    ...(error ? { error } : {}),
  };
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function target(p: ClusterObject): PodTarget & { pod: ClusterObject } {
  return { name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? '', pod: p };
}

function name(p: PodTarget): string {
  return `${p.name}.${p.namespace}`;
}

/** A sidecar or gateway proxy: an istio-proxy container (or native sidecar). */
function hasProxy(p: ClusterObject): boolean {
  const spec = (p as { spec?: { containers?: { name?: string }[]; initContainers?: { name?: string; restartPolicy?: string }[] } }).spec;
  return (spec?.containers ?? []).some((c) => c.name === PROXY_CONTAINER)
    || (spec?.initContainers ?? []).some((c) => c.name === PROXY_CONTAINER && c.restartPolicy === 'Always');
}

/** The proxies a /debug/syncz answer lists. */
function proxyIds(body: Buffer): string[] {
  try {
    const list = JSON.parse(body.toString('utf8')) as { proxy?: unknown }[];
    return Array.isArray(list) ? list.map((e) => e?.proxy).filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}

/** Where a GET's answer goes: readable names for what bug-report asks, a safe slug for anything else. */
export function memberForGet(pod: PodTarget, port: number, path: string): string {
  const base = `pods/${pod.namespace}/${pod.name}`;
  const admin: Record<string, string> = {
    '/config_dump?include_eds': 'config_dump.json',
    '/config_dump': 'config_dump.json',
    '/clusters?format=json': 'clusters.json',
    '/server_info': 'server_info.json',
  };
  if (port !== ISTIOD_DEBUG_PORT && admin[path]) return `${base}/${admin[path]}`;
  if (port === ISTIOD_DEBUG_PORT) {
    const proxy = /^\/debug\/config_dump\?proxyID=([^&]+)$/.exec(path);
    if (proxy) return `${base}/debug/config_dump/${slug(decodeURIComponent(proxy[1]))}.json`;
    const m = /^\/debug\/([A-Za-z_]+)$/.exec(path);
    if (m) return `${base}/debug/${m[1]}.json`;
  }
  return `${base}/port-${port}/${slug(path.replace(/^\//, ''))}`;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 200) || '_';
}

/**
 * An answer with any private key taken out. Parsed only when it may hold one (Envoy already prints
 * `[redacted]` for the keys it knows); rewritten only when something was redacted.
 */
function redactAnswer(body: Buffer): Buffer {
  const text = body.toString('utf8');
  if (!/PRIVATE KEY|LS0tLS1CRUdJTi|"(private_key|password|pkcs12|session_ticket_keys|generic_secret|secret_value)"/.test(text)) return body;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    const plain = redactSecrets(text);
    return plain === text ? body : Buffer.from(plain);
  }
  const clean = redactSecrets(doc);
  return clean === doc ? body : Buffer.from(JSON.stringify(clean, null, 1) + '\n');
}

