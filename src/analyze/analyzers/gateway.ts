import { X509Certificate } from 'node:crypto';
import type { Resource } from '../../resources/index.js';
import { fullName, type Analyzer, type Context } from '../analyzer.js';
import { K, arr, num, obj, selectorMatches, selectorString, str, strMap, type Snapshot } from '../snapshot.js';
import { groupByNamespace } from './selectors.js';
import { gatewayWorkloads } from './virtualservice.js';

function selectorOf(gw: Resource): Record<string, string> {
  return strMap(obj(gw.object.spec).selector);
}

function selectorField(gw: Resource): (string | number)[] {
  const keys = Object.keys(selectorOf(gw)).sort();
  return keys.length ? ['spec', 'selector', keys[0]] : ['spec'];
}

/**
 * Whether "this Gateway's selector matches no pod" can be trusted: always, unless the input is only
 * part of the mesh (--partial); then with a cluster, or when the files hold a workload carrying one
 * of the selector's label keys (the gateway deployment is usually installed separately).
 */
function gatewayWorkloadsKnown(snap: Snapshot, gw: Resource): boolean {
  if (!snap.isPartial('workloads')) return true;
  const keys = Object.keys(selectorOf(gw));
  const known = snap.workloadLabelKeys();
  return snap.knows('workloads', undefined, keys.some((k) => known.has(k)));
}

/** The pod port a Service port forwards to: a numeric targetPort (a named one is resolved on the pod, unknown here). */
function targetPortNumber(port: Record<string, unknown>): number | undefined {
  const t = port.targetPort;
  if (typeof t === 'number' && t !== 0) return t;
  if (typeof t === 'string' && /^\d+$/.test(t) && Number(t) !== 0) return Number(t);
  return undefined;
}

export const ingressGatewayPortAnalyzer: Analyzer = {
  name: 'gateway.IngressGatewayPortAnalyzer',
  description: "Checks a gateway's ports against the gateway's Kubernetes service ports",
  codes: ['IST0101', 'IST0162'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    let servicesByNs: Map<string, Resource[]> | undefined;
    for (const gw of snap.of(K.Gateway)) {
      if (!gatewayWorkloadsKnown(snap, gw)) continue;
      const selector = selectorOf(gw);
      const pods = gatewayWorkloads(snap, gw);
      if (pods.length === 0) {
        ctx.report(gw, 'IST0101', ['selector', selectorString(selector)], selectorField(gw));
        continue;
      }
      servicesByNs ??= groupByNamespace(snap.of(K.Service));
      // the ports the Services selecting the gateway pods expose
      const ports = new Set<number>();
      for (const pod of pods) {
        for (const svc of servicesByNs.get(pod.namespace) ?? []) {
          const sel = strMap(obj(svc.object.spec).selector);
          if (Object.keys(sel).length === 0 || !selectorMatches(sel, pod.labels)) continue;
          for (const p of arr(obj(svc.object.spec).ports)) {
            // an unset protocol is TCP, as the API server defaults it
            const proto = str(obj(p).protocol) || 'TCP';
            if (proto !== 'TCP') continue;
            // a server port may be the Service's port (Istio translates it to the target port) or the target port itself
            ports.add(num(obj(p).port));
            const target = targetPortNumber(obj(p));
            if (target !== undefined) ports.add(target);
          }
        }
      }
      // on partial input, the gateway's Service may simply not be in it
      if (ports.size === 0 && !pods.some((p) => snap.knows('services', p.namespace))) continue;
      arr(obj(gw.object.spec).servers).forEach((server, i) => {
        const port = obj(obj(server).port);
        if (port.number === undefined) return;
        if (!ports.has(num(port.number))) ctx.report(gw, 'IST0162', [num(port.number), selectorString(selector)], ['spec', 'servers', i, 'port', 'number']);
      });
    }
  },
};

/** A Secret's value under `key`: stringData as written, data base64-decoded (stringData wins, as the API server merges them). */
function secretValue(secret: Resource, key: string): string {
  const plain = strMap(secret.object.stringData)[key];
  if (plain !== undefined) return plain;
  const encoded = strMap(secret.object.data)[key];
  return encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('latin1');
}

/**
 * Why istiod would not serve this Secret as a gateway certificate, or undefined when it would: a
 * non-empty `cert`/`key` or `tls.crt`/`tls.key` pair, whose certificate's first PEM block parses
 * and is valid now (not expired, not yet to come).
 */
export function secretProblem(secret: Resource, now = Date.now()): string | undefined {
  let cert = secretValue(secret, 'cert');
  if (!cert || !secretValue(secret, 'key')) {
    cert = secretValue(secret, 'tls.crt');
    if (!cert || !secretValue(secret, 'tls.key')) return 'missing certificate or key';
  }
  const block = /-----BEGIN ([^-\n]+)-----([\s\S]*?)-----END \1-----/.exec(cert);
  if (!block) return 'no PEM block';
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(Buffer.from(block[2].replace(/\s+/g, ''), 'base64'));
  } catch {
    return 'certificate cannot be parsed';
  }
  if (Date.parse(x509.validTo) < now) return 'certificate expired';
  if (Date.parse(x509.validFrom) > now) return 'certificate not yet valid';
  return undefined;
}

export const secretAnalyzer: Analyzer = {
  name: 'gateway.SecretAnalyzer',
  description: "Checks a gateway's referenced secrets for correctness",
  codes: ['IST0101', 'IST0161'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    for (const gw of snap.of(K.Gateway)) {
      const servers = arr(obj(gw.object.spec).servers);
      // the secrets live where the gateway pods run, not where the Gateway object is
      const pods = gatewayWorkloads(snap, gw);
      let ns = pods[0]?.namespace;
      if (ns === undefined) {
        if (gatewayWorkloadsKnown(snap, gw)) {
          ctx.report(gw, 'IST0101', ['selector', selectorString(selectorOf(gw))], selectorField(gw));
          continue;
        }
        // partial input without the gateway's pods: assume the Gateway's own namespace
        ns = gw.namespace;
      }
      servers.forEach((server, i) => {
        const cn = str(obj(obj(server).tls).credentialName);
        if (!cn) return;
        const slash = cn.indexOf('/');
        const secretNs = slash >= 0 ? cn.slice(0, slash) : ns!;
        const secretName = slash >= 0 ? cn.slice(slash + 1) : cn;
        const secret = snap.get(K.Secret, secretNs, secretName);
        const at = ['spec', 'servers', i, 'tls', 'credentialName'];
        if (!secret) {
          if (snap.knowsSecretsIn(secretNs)) ctx.report(gw, 'IST0101', ['credentialName', cn], at);
          return;
        }
        if (secretProblem(secret)) ctx.report(gw, 'IST0161', [gw.name, ns!], at);
      });
    }
  },
};

/**
 * The certificate a TLS server presents, as istioctl compares them: by credentialName, else by the
 * serverCertificate and privateKey pair (both must be set). Undefined when there is nothing to compare.
 */
function certificateKey(tls: Record<string, unknown>): string | undefined {
  const cn = str(tls.credentialName);
  if (cn) return `cn|${cn}`;
  const cert = str(tls.serverCertificate);
  const key = str(tls.privateKey);
  return cert && key ? `files|${cert}|${key}` : undefined;
}

export const certificateAnalyzer: Analyzer = {
  name: 'gateway.CertificateAnalyzer',
  description: 'Checks a gateway certificate',
  codes: ['IST0138'],
  analyze(ctx: Context) {
    // gateways by the certificates they present: only gateways sharing one need comparing
    const byCert = new Map<string, Set<Resource>>();
    const certsOf = new Map<Resource, Set<string>>();
    for (const gw of ctx.snapshot.of(K.Gateway)) {
      const keys = new Set<string>();
      for (const server of arr(obj(gw.object.spec).servers)) {
        const tls = obj(server).tls;
        const key = tls === undefined ? undefined : certificateKey(obj(tls));
        if (key) keys.add(key);
      }
      certsOf.set(gw, keys);
      for (const key of keys) {
        let set = byCert.get(key);
        if (!set) byCert.set(key, (set = new Set()));
        set.add(gw);
      }
    }
    for (const [cur, keys] of certsOf) {
      const curSel = selectorOf(cur);
      const others = new Set<Resource>();
      for (const key of keys) for (const other of byCert.get(key) ?? []) if (other !== cur) others.add(other);
      for (const other of others) {
        // Istio scopes gateways to their workloads: a selector that is a subset of the other's
        if (Object.keys(curSel).length > 0 && !selectorMatches(curSel, selectorOf(other))) continue;
        ctx.report(cur, 'IST0138', [[fullName(cur), fullName(other)]], ['metadata', 'name']);
      }
    }
  },
};

/** One server of a Gateway: its port, and its hosts with the bind address they listen on. */
interface GatewayServer {
  gw: Resource;
  index: number;
  port: string;
  hosts: string[];
  bind: string;
}

export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: "Checks a gateway's selector, port number and hosts",
  codes: ['IST0101', 'IST0145'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    // servers by `selector~port`, as istioctl groups them
    const byKey = new Map<string, GatewayServer[]>();
    const selectors = new Map<string, Record<string, string>>();
    for (const gw of snap.of(K.Gateway)) {
      const selector = selectorOf(gw);
      const sel = selectorString(selector);
      selectors.set(sel, selector);
      arr(obj(gw.object.spec).servers).forEach((server, index) => {
        const s = obj(server);
        const port = String(num(obj(s.port).number));
        const entry: GatewayServer = { gw, index, port, hosts: arr(s.hosts).map(str), bind: str(s.bind) };
        const key = `${sel}~${port}`;
        const list = byKey.get(key);
        if (list) list.push(entry);
        else byKey.set(key, [entry]);
      });
    }
    const overlap = selectorOverlap(snap, selectors);
    for (const gw of snap.of(K.Gateway)) {
      const sel = selectorString(selectorOf(gw));
      // the groups of gateways sharing a workload with this one: same selector, or one selector
      // within the other and a pod both select
      const groups: GatewayServer[][] = [];
      for (const [key, list] of byKey) {
        const other = key.slice(0, key.lastIndexOf('~'));
        if (other === sel || ((other.includes(sel) || sel.includes(other)) && overlap(sel, other))) groups.push(list);
      }
      if (sel !== '' && groups.length === 0) {
        ctx.report(gw, 'IST0101', ['selector', sel], selectorField(gw));
        continue;
      }
      arr(obj(gw.object.spec).servers).forEach((server, i) => {
        const s = obj(server);
        const port = String(num(obj(s.port).number));
        const hosts = arr(s.hosts).map(str);
        const bind = str(s.bind);
        const conflicts = new Set<string>();
        for (const list of groups) {
          for (const o of list) {
            // Istio's CheckDuplicates: the very same host string on the same bind address
            if (o.gw === gw || o.port !== port || o.bind !== bind) continue;
            if (hosts.some((h) => o.hosts.includes(h))) conflicts.add(fullName(o.gw));
          }
        }
        if (conflicts.size === 0) return;
        ctx.report(gw, 'IST0145', [[...conflicts].sort().join(','), sel, port, hosts.join(',')], ['spec', 'servers', i]);
      });
    }
  },
};

/**
 * Whether two gateway selectors (as `k=v,...` strings) select a common workload, memoised per pair:
 * the workloads of one, looked up in the label index, tested against the other.
 */
function selectorOverlap(snap: Snapshot, selectors: Map<string, Record<string, string>>): (a: string, b: string) => boolean {
  const memo = new Map<string, boolean>();
  return (a, b) => {
    const key = a < b ? `${a}\n${b}` : `${b}\n${a}`;
    let v = memo.get(key);
    if (v === undefined) {
      const sa = selectors.get(a)!;
      const sb = selectors.get(b)!;
      v = snap.workloadsMatching(sa).some((w) => w.resource.kind !== 'WorkloadEntry' && selectorMatches(sb, w.labels));
      memo.set(key, v);
    }
    return v;
  };
}
