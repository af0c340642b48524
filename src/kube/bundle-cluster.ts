import { DamagedBundleError, MeshctlError, UsageError } from '../errors.js';
import type { CallRecord, ExecRecord, GetRecord, LogsRecord, ResourceRecord } from '../source/bundle/format.js';
import type { BundleReader } from '../source/bundle/reader.js';
import { parseJson } from '../source/parse.js';
import { type ClusterObject, type ClusterSource, type ListOptions, type ResourceType, resourceName } from './cluster.js';
import { type ApiAction, type ErrorContext, statusError } from './errors.js';
import type { ExecResult } from './exec.js';
import type { ClusterOptions } from './open.js';
import type { HttpAnswer, PodTarget } from './portforward.js';
import { fromRecordedError } from './recorded.js';
import { type Requirement, matchesLabels, parseLabelSelector } from './selector.js';

/** Cluster-scoped objects are kept under this pseudo-namespace (no real namespace can start with `_`). */
export const CLUSTER_SCOPE = '_cluster';

export async function openBundleCluster(file: string, options: ClusterOptions): Promise<ClusterSource> {
  if (options.kubeconfig !== undefined || options.context !== undefined) {
    throw new UsageError('--bundle reads a captured cluster instead of a live one: drop --kubeconfig and --context');
  }
  const { openBundle } = await import('../source/bundle/reader.js');
  return bundleCluster(await openBundle(file), options);
}

/**
 * A bundle as the cluster it was captured from: objects from its resource lists (with the API server's
 * label selectors and 404s), and every pod GET, log and exec answered as it was answered at capture time,
 * failures included. What bug-report did not capture is an error that says so, never an empty answer.
 */
export function bundleCluster(reader: BundleReader, options: ClusterOptions = {}): ClusterSource {
  const index = reader.index;
  const label = reader.label;
  const ctx: ErrorContext = { server: index.cluster.server, contextName: index.cluster.context, timeoutMs: 0 };
  const byType = new Map<string, ResourceRecord[]>();
  for (const r of index.resources) {
    const key = `${r.group}/${r.plural}`;
    byType.set(key, [...(byType.get(key) ?? []), r]);
  }
  const calls = new Map<string, CallRecord>();
  const podCalls = new Map<string, CallRecord[]>();
  for (const c of index.calls) {
    calls.set(callKey(c), c);
    podCalls.set(c.pod, [...(podCalls.get(c.pod) ?? []), c]);
  }
  const parsed = new Map<string, Promise<ClusterObject[]>>();
  const objectsOf = (member: string): Promise<ClusterObject[]> => {
    let p = parsed.get(member);
    if (!p) {
      p = reader.readText(member).then((input) => {
        const doc = parseJson(input) as { items?: unknown };
        if (!Array.isArray(doc?.items)) throw new DamagedBundleError(`bundle ${label} is damaged: member ${member} is not a List of objects`);
        return doc.items as ClusterObject[];
      });
      parsed.set(member, p);
    }
    return p;
  };

  /**
   * The lists of `t` that can answer a list by `selector`: those of every object, and those kept by a label
   * selector the asked one requires as much as (never for a get, which has no selector).
   */
  const usable = (t: ResourceType, selector: Requirement[] | undefined): ResourceRecord[] =>
    (byType.get(`${t.group}/${t.plural}`) ?? []).filter((r) => !r.labelSelector || (selector !== undefined && implies(selector, r.labelSelector)));

  /** The members that hold `t` in `namespace` (every namespace when undefined), or the recorded failure. */
  const membersFor = (t: ResourceType, namespace: string | undefined, selector?: Requirement[]): string[] => {
    const what = resourceName(t);
    if (!byType.get(`${t.group}/${t.plural}`)?.length) throw new MeshctlError(`bundle ${label} holds no ${what} (bug-report did not collect them)`);
    const records = usable(t, selector);
    if (records.length === 0) {
      const kept = [...new Set(byType.get(`${t.group}/${t.plural}`)!.map((r) => r.labelSelector))].join(', ');
      throw new MeshctlError(`bundle ${label} holds the ${what} labelled ${kept} only (bug-report did not list them all)`);
    }
    if (!t.namespaced || namespace === undefined) {
      // the very list refused at capture (by this selector, every namespace) is refused again
      // so is the list of every object refused at capture that no list of every namespace answered (a kind
      // bug-report -A then listed namespace by namespace: live, the cluster-wide list is refused too)
      const whole = records.some((r) => r.scope === 'all' && !r.labelSelector && !r.error);
      const refused = records.find((r) => r.labelSelector && r.error) ?? (whole ? undefined : records.find((r) => r.scope === 'all' && r.error));
      if (refused) throw fromRecordedError(refused.error!);
      const ok = records.filter((r) => !r.error);
      if (ok.length === 0) throw fromRecordedError(records[0].error!);
      return [...new Set(ok.flatMap((r) => Object.values(r.members)))];
    }
    // the namespace's own list before a refusal of every namespace (-A lists it namespace by namespace then)
    const covering = records.find((r) => !r.labelSelector && r.scope === 'all' && !r.error)
      ?? records.find((r) => !r.labelSelector && r.scope === namespace)
      ?? records.find((r) => !r.labelSelector && r.scope === 'all')
      ?? records.find((r) => r.labelSelector && !r.error);
    // a partial list (what a lookup found) answers cluster-wide lookups only: it is not its namespace's list
    if (!covering || covering.partial) {
      const held = records.filter((r) => !r.error && !r.partial && !r.labelSelector).map((r) => r.scope);
      throw new MeshctlError(`bundle ${label} holds no ${what} of namespace ${namespace} (it holds those of ${held.join(', ') || 'no namespace'})`);
    }
    if (covering.error) {
      if (covering.scope === namespace) throw fromRecordedError(covering.error);
      // refused cluster-wide at capture: the namespace's own list was never asked, so say what was refused
      // (and, when bug-report listed the kind namespace by namespace instead, why not this one)
      const cut = index.perNamespace?.find((n) => n.group === t.group && n.plural === t.plural)?.cut;
      throw fromRecordedError(covering.error, `bundle ${label} holds no ${what} of namespace ${namespace}: at capture the list of every namespace was refused (${covering.error.message})${cut ? `, and namespace by namespace ${cut}` : ''}`);
    }
    const m = covering.members[namespace];
    return m ? [m] : [];
  };

  const answer = async (rec: CallRecord): Promise<Buffer> => {
    if (rec.error) throw fromRecordedError(rec.error);
    return rec.member ? reader.read(rec.member) : Buffer.from((rec as GetRecord).body ?? '', 'utf8');
  };

  const notCaptured = (pod: PodTarget, what: string, left?: string): MeshctlError => {
    const others = podCalls.get(`${pod.namespace}/${pod.name}`);
    const held = others
      ? ` (it holds ${others.map((c) => (c.call === 'get' ? `GET ${c.path}` : c.call === 'logs' ? `the ${c.container} logs` : `exec ${c.argv.join(' ')}`)).join(', ')})`
      : ` (bug-report did not collect this pod${left ? `: it ran with ${left}` : ''})`;
    return new MeshctlError(`bundle ${label} has no ${what} of pod ${pod.name}.${pod.namespace}${held}`);
  };

  return {
    origin: 'bundle',
    name: `bundle ${label}`,
    namespace: options.namespace || index.cluster.namespace || 'default',
    istioNamespace: options.istioNamespace ?? index.cluster.istioNamespace,
    revision: options.revision,
    timeoutMs: 0,
    context: index.cluster.context,
    captured: index.finished,

    coverage(t, labelSelector) {
      if (!byType.get(`${t.group}/${t.plural}`)?.length) return undefined;
      const records = usable(t, labelSelector ? parseLabelSelector(labelSelector, 'labelSelector') : undefined);
      const ok = records.filter((r) => !r.error && !r.partial);
      if (ok.some((r) => r.scope === 'all')) return 'all';
      return [...new Set(ok.map((r) => r.scope))].sort();
    },

    async get(t, name, namespace) {
      const ns = t.namespaced ? namespace : undefined;
      for (const member of membersFor(t, ns ?? (t.namespaced ? 'default' : undefined))) {
        const found = (await objectsOf(member)).find((o) => o.metadata?.name === name && (!t.namespaced || o.metadata?.namespace === ns));
        if (found) return found;
      }
      const action: ApiAction = { verb: 'get', resource: t.plural, ...(t.group ? { group: t.group } : {}), ...(ns !== undefined ? { namespace: ns } : {}), name };
      throw statusError(404, { kind: 'Status', reason: 'NotFound' }, action, ctx);
    },

    async list(t, options: ListOptions = {}) {
      const selector = options.labelSelector ? parseLabelSelector(options.labelSelector, 'labelSelector') : [];
      const fields = options.fieldSelector ? parseFieldSelector(options.fieldSelector) : [];
      const out: ClusterObject[] = [];
      // a labelled object is in its namespace's list and in the list by label: once in the answer
      const seen = new Set<string>();
      for (const member of membersFor(t, t.namespaced ? options.namespace : undefined, selector)) {
        for (const o of await objectsOf(member)) {
          if (t.namespaced && options.namespace !== undefined && o.metadata?.namespace !== options.namespace) continue;
          if (!matchesLabels(selector, o.metadata?.labels) || !fields.every((f) => f(o))) continue;
          const key = `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
          if (seen.has(key)) continue;
          seen.add(key);
          out.push(o);
        }
      }
      return out;
    },

    async podGet(pod, port, path, admin): Promise<HttpAnswer> {
      const key = (p: string) => `get|${pod.namespace}/${pod.name}|${port}|${p}`;
      let rec = calls.get(key(path)) as GetRecord | undefined;
      // the dump with endpoints answers for the one without: every section of it is there, and more
      if (!rec && path === '/config_dump') rec = calls.get(key('/config_dump?include_eds')) as GetRecord | undefined;
      if (!rec) {
        const ns = /^\/debug\/syncz\?namespace=([^&]+)$/.exec(path);
        const all = ns ? (calls.get(key('/debug/syncz')) as GetRecord | undefined) : undefined;
        if (all && ns) return filterSyncz(await answer(all), all, decodeURIComponent(ns[1]));
      }
      if (!rec) {
        // a whole component left out at capture says so
        const left = admin?.label === 'ztunnel' && index.request?.includeZtunnel === false ? '--no-include-ztunnel'
          : port === 15014 && index.request?.includeIstiod === false ? '--no-include-istiod' : undefined;
        throw notCaptured(pod, `answer to GET ${path} on port ${port}`, left);
      }
      return { status: rec.status ?? 0, body: await answer(rec) };
    },

    async podLogs(pod, container, options = {}) {
      const rec = calls.get(`logs|${pod.namespace}/${pod.name}|${container}`) as LogsRecord | undefined;
      if (!rec) throw notCaptured(pod, `log of container ${container}`);
      const text = (await answer(rec)).toString('utf8');
      if (!options.tailLines || options.tailLines <= 0) return text;
      return text.split('\n').slice(-options.tailLines - 1).join('\n');
    },

    async podExec(pod, container, argv): Promise<ExecResult> {
      const rec = calls.get(`exec|${pod.namespace}/${pod.name}|${container}|${JSON.stringify(argv)}`) as ExecRecord | undefined;
      if (!rec) throw notCaptured(pod, `exec of "${argv.join(' ')}" in container ${container}`);
      const stdout = await answer(rec);
      return { stdout, stderr: rec.stderr ?? '', exitCode: rec.exitCode ?? 0, ...(rec.message ? { message: rec.message } : {}) };
    },

    close: () => undefined,
  };
}

/** The API server's field selectors as commands send them (`spec.nodeName=x`, `a.b!=y`, comma = and). */
function parseFieldSelector(text: string): ((o: ClusterObject) => boolean)[] {
  return text.split(',').map((term) => {
    const m = /^([\w.]+)\s*(==|!=|=)\s*(.*)$/.exec(term.trim());
    if (!m) throw new UsageError(`fieldSelector: cannot read ${JSON.stringify(term)} (expected field=value or field!=value)`);
    const [, field, op, value] = m;
    return (o) => {
      let v: unknown = o;
      for (const k of field.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
      const equal = String(v ?? '') === value;
      return op === '!=' ? !equal : equal;
    };
  });
}

export function callKey(c: CallRecord): string {
  switch (c.call) {
    case 'get':
      return `get|${c.pod}|${c.port}|${c.path}`;
    case 'logs':
      return `logs|${c.pod}|${c.container}`;
    case 'exec':
      return `exec|${c.pod}|${c.container}|${JSON.stringify(c.argv)}`;
  }
}

/** istiod's `?namespace=` on /debug/syncz keeps the proxies of that namespace (`name.namespace`). */
function filterSyncz(body: Buffer, rec: GetRecord, namespace: string): HttpAnswer {
  if (rec.status !== 200) return { status: rec.status ?? 0, body };
  let list: unknown;
  try {
    list = JSON.parse(body.toString('utf8'));
  } catch {
    return { status: 200, body };
  }
  if (!Array.isArray(list)) return { status: 200, body };
  const kept = list.filter((e) => typeof (e as { proxy?: unknown })?.proxy === 'string' && (e as { proxy: string }).proxy.endsWith(`.${namespace}`));
  return { status: 200, body: Buffer.from(JSON.stringify(kept, null, 1)) };
}

/** Does a list by `asked` require all that `kept` does (each of its terms)? Then a list kept by `kept` holds its answer. */
function implies(asked: Requirement[], kept: string): boolean {
  const same = (a: Requirement, b: Requirement) => a.key === b.key && a.op === b.op && JSON.stringify('values' in a ? a.values : []) === JSON.stringify('values' in b ? b.values : []);
  return parseLabelSelector(kept, 'labelSelector').every((k) => asked.some((a) => same(a, k)));
}
