import { isIP } from 'node:net';
import type { Resource } from '../../resources/index.js';
import { labelSelectorMatches, type LabelSelectorLike } from '../../resources/selector.js';
import { fullName, type Analyzer, type Context } from '../analyzer.js';
import { K, arr, obj, str, strMap, type Snapshot } from '../snapshot.js';

/** One entry of a MutatingWebhookConfiguration's (or ValidatingWebhookConfiguration's) `webhooks`. */
export interface Webhook {
  config: Resource;
  index: number;
  name: string;
  /** undefined: not set, which matches everything. */
  namespaceSelector?: LabelSelectorLike;
  objectSelector?: LabelSelectorLike;
  clientConfig: Record<string, unknown>;
}

const webhookCache = new WeakMap<Resource, Webhook[]>();

/** The webhooks of a webhook configuration, read once per resource. */
export function webhooksOf(config: Resource): Webhook[] {
  let list = webhookCache.get(config);
  if (list) return list;
  list = arr(config.object.webhooks).map((w, index) => {
    const o = obj(w);
    return {
      config, index, name: str(o.name),
      namespaceSelector: o.namespaceSelector === undefined || o.namespaceSelector === null ? undefined : obj(o.namespaceSelector),
      objectSelector: o.objectSelector === undefined || o.objectSelector === null ? undefined : obj(o.objectSelector),
      clientConfig: obj(o.clientConfig),
    };
  });
  webhookCache.set(config, list);
  return list;
}

/** Admission webhooks' rule: an unset selector matches everything. */
export function webhookSelects(selector: LabelSelectorLike | undefined, labels: Readonly<Record<string, string>>): boolean {
  return selector === undefined || labelSelectorMatches(selector, labels);
}

/** The sidecar-injection webhooks: every MutatingWebhookConfiguration entry whose name ends in `istio.io`. */
export function injectionWebhooks(snap: Snapshot): Webhook[] {
  const out: Webhook[] = [];
  for (const c of snap.of(K.MutatingWebhookConfiguration)) for (const w of webhooksOf(c)) if (w.name.endsWith('istio.io')) out.push(w);
  return out;
}

const REV = 'istio.io/rev';

/** Revisions a webhook configuration serves: its istio.io/rev label and the revisions its selectors name. */
function revisionsOf(config: Resource): string[] {
  const revs = new Set<string>();
  const label = strMap(config.metadata.labels)[REV];
  if (label !== undefined) revs.add(label);
  for (const w of webhooksOf(config)) {
    for (const sel of [w.namespaceSelector, w.objectSelector]) {
      if (!sel) continue;
      const ml = strMap(sel.matchLabels);
      if (REV in ml) revs.add(ml[REV]);
      for (const e of arr(sel.matchExpressions)) if (str(obj(e).key) === REV) for (const v of arr(obj(e).values)) revs.add(str(v));
    }
  }
  return [...revs];
}

/** The label sets a namespace or pod can carry to opt in or out of injection, for each revision. */
function permutations(key: string, revisions: readonly string[]): Record<string, string>[] {
  const base = [{}, { [key]: key === 'istio-injection' ? 'enabled' : 'true' }, { [key]: key === 'istio-injection' ? 'disabled' : 'false' }];
  return [...base, ...revisions.flatMap((rev) => base.map((b) => ({ ...b, [REV]: rev })))];
}

export const webhookAnalyzer: Analyzer = {
  name: 'webhook.Analyzer',
  description: 'Checks the validity of Istio webhooks',
  codes: ['IST0139'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    const configs = snap.of(K.MutatingWebhookConfiguration);
    if (configs.length === 0) return;
    const hooks: Webhook[] = [];
    const revisions = new Set<string>();
    for (const c of configs) {
      const revs = revisionsOf(c);
      const list = webhooksOf(c);
      if (revs.length === 0 && !list.some((w) => w.name.endsWith('istio.io'))) continue;
      hooks.push(...list);
      for (const r of revs) revisions.add(r);
    }
    const id = (w: Webhook) => `${fullName(w.config)}/${w.name}`;
    // every namespace/pod label combination must reach at most one injector, or pods are injected twice
    const nsLabels = permutations('istio-injection', [...revisions]);
    const podLabels = permutations('sidecar.istio.io/inject', [...revisions]);
    for (const nl of nsLabels) {
      for (const pl of podLabels) {
        const matches = hooks.filter((w) => webhookSelects(w.namespaceSelector, nl) && webhookSelects(w.objectSelector, pl));
        if (matches.length < 2) continue;
        for (const w of matches) {
          const others = matches.filter((o) => o !== w).map(id).sort();
          ctx.report(w.config, 'IST0139', [`Webhook overlaps with others: [${others.join(' ')}]. This may cause injection to occur twice.`], ['webhooks', w.index, 'name']);
        }
      }
    }
    for (const w of hooks) {
      const svc = w.clientConfig.service;
      if (svc === undefined || svc === null) continue; // a URL
      const ns = str(obj(svc).namespace);
      const name = str(obj(svc).name);
      if (snap.get(K.Service, ns, name)) continue;
      // partial input: only where it shows that namespace's services
      if (!snap.knows('services', ns)) continue;
      ctx.report(w.config, 'IST0139', [`Injector refers to a control plane service that does not exist: ${ns}/${name}.`], ['webhooks', w.index, 'clientConfig', 'service']);
    }
  },
};

/** What a webhook URL's host resolved to (or why not), per snapshot. */
const resolved = new WeakMap<Snapshot, Map<string, string | undefined>>();
const LOOKUP_TIMEOUT_MS = 5000;

/**
 * A real DNS lookup attempted inside Node's test runner (NODE_TEST_CONTEXT is set in every test
 * process and in the CLI processes tests start). Tests must never resolve real hosts: they inject
 * SnapshotOptions.lookupHost, or use IP addresses, `localhost` or `.invalid` names. Not caught as an
 * unresolvable host: it fails the run, so the test fails loudly.
 */
export class RealLookupInTest extends Error {}

/**
 * Special-use names (RFC 6761) answered without asking a resolver, as the system resolver answers
 * them: `localhost` is the loopback, a `.invalid` name never resolves.
 */
function specialUse(host: string): Promise<string[]> | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return Promise.resolve(['127.0.0.1', '::1']);
  if (h === 'invalid' || h.endsWith('.invalid')) return Promise.reject(new Error(`${host}: a .invalid name never resolves`));
  return undefined;
}

async function defaultLookup(host: string): Promise<string[]> {
  const special = specialUse(host);
  if (special) return special;
  if (process.env.NODE_TEST_CONTEXT !== undefined) {
    throw new RealLookupInTest(
      `a test attempted a real DNS lookup of "${host}": give analyze a lookupHost, or use an IP address, localhost or a .invalid name`,
    );
  }
  // loaded only when some Istio webhook names a host: most runs never resolve anything
  const { lookup } = await import('node:dns/promises');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), LOOKUP_TIMEOUT_MS);
    timer.unref();
    lookup(host, { all: true }).then(
      (addrs) => { clearTimeout(timer); resolve(addrs.map((a) => a.address)); },
      (err: unknown) => { clearTimeout(timer); reject(err); },
    );
  });
}

/** The Istio webhooks an external control plane is reached through (istiod's validator and injector configurations). */
function controlPlaneWebhooks(snap: Snapshot): Webhook[] {
  const out: Webhook[] = [];
  for (const c of snap.of(K.ValidatingWebhookConfiguration)) {
    if (c.name === 'istiod-default-validator' || c.name.startsWith('istio-validator')) out.push(...webhooksOf(c));
  }
  for (const c of snap.of(K.MutatingWebhookConfiguration)) if (c.name.startsWith('istio-sidecar-injector')) out.push(...webhooksOf(c));
  return out;
}

interface ParsedUrl {
  host: string;
  /** Why the URL is unusable, in istioctl's words. */
  invalid?: string;
}

/** Go's url.Parse, as far as istioctl relies on it: a string with no scheme is a bare path (empty host). */
function parseWebhookUrl(url: string): ParsedUrl {
  if (!url.includes('://')) return { host: '' };
  try {
    const host = new URL(url).hostname;
    return { host: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host };
  } catch {
    return { host: '', invalid: 'was provided in an invalid format' };
  }
}

export const externalControlPlaneAnalyzer: Analyzer = {
  name: 'externalcontrolplane.ExternalControlPlaneAnalyzer',
  description: 'Checks that the remote IstioOperator resources reference an external control plane',
  codes: ['IST0163', 'IST0164'],
  async prepare(snap: Snapshot) {
    const hosts = new Set<string>();
    for (const w of controlPlaneWebhooks(snap)) {
      const url = w.clientConfig.url;
      if (typeof url !== 'string') continue;
      const p = parseWebhookUrl(url);
      if (!p.invalid && p.host && !isIP(p.host)) hosts.add(p.host);
    }
    if (hosts.size === 0) return;
    const look = snap.options.lookupHost ?? defaultLookup;
    const results = new Map<string, string | undefined>();
    await Promise.all([...hosts].map(async (h) => {
      try {
        const addrs = await look(h);
        results.set(h, addrs.length === 0 ? 'resolves with zero IP addresses' : undefined);
      } catch (err) {
        if (err instanceof RealLookupInTest) throw err;
        results.set(h, 'cannot be resolved via a DNS lookup');
      }
    }));
    resolved.set(snap, results);
  },
  analyze(ctx: Context) {
    const results = resolved.get(ctx.snapshot);
    for (const w of controlPlaneWebhooks(ctx.snapshot)) {
      const url = w.clientConfig.url;
      const at = ['webhooks', w.index, 'clientConfig'];
      if (typeof url === 'string') {
        const p = parseWebhookUrl(url);
        const problem = p.invalid ?? (p.host === '' ? 'cannot be resolved via a DNS lookup' : isIP(p.host) ? undefined : results?.get(p.host));
        if (problem) ctx.report(w.config, 'IST0163', [url, w.name, problem], [...at, 'url']);
        else if (isIP(p.host)) ctx.report(w.config, 'IST0164', [url, w.name], [...at, 'url']);
      } else if (w.clientConfig.service === undefined || w.clientConfig.service === null) {
        ctx.report(w.config, 'IST0163', ['', w.name, 'is blank'], at);
      }
    }
  },
};
