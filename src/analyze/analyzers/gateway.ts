import { X509Certificate } from 'node:crypto';
import type { Resource } from '../../resources/index.js';
import { fullName, type Analyzer, type Context } from '../analyzer.js';
import { hostMatches } from '../../resources/hosts.js';
import { K, arr, num, obj, selectorMatches, selectorString, str, strMap, type Snapshot } from '../snapshot.js';
import { gatewayWorkloads } from './virtualservice.js';

function selectorOf(gw: Resource): Record<string, string> {
  return strMap(obj(gw.object.spec).selector);
}

function selectorField(gw: Resource): (string | number)[] {
  const keys = Object.keys(selectorOf(gw)).sort();
  return keys.length ? ['spec', 'selector', keys[0]] : ['spec'];
}

/**
 * Whether "this Gateway's selector matches no pod" can be trusted: with a cluster, yes; with files
 * only, just when the files hold a workload carrying one of the selector's label keys (the gateway
 * deployment itself is usually installed separately, and its absence from the files proves nothing).
 */
function gatewayWorkloadsKnown(snap: Snapshot, gw: Resource): boolean {
  if (snap.complete) return true;
  const keys = Object.keys(selectorOf(gw));
  if (keys.length === 0) return false;
  const known = snap.workloadLabelKeys();
  return keys.some((k) => known.has(k));
}

export const ingressGatewayPortAnalyzer: Analyzer = {
  name: 'gateway.IngressGatewayPortAnalyzer',
  description: "Checks a gateway's ports against the gateway's Kubernetes service ports",
  codes: ['IST0101', 'IST0162'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    for (const gw of snap.of(K.Gateway)) {
      if (!gatewayWorkloadsKnown(snap, gw)) continue;
      const selector = selectorOf(gw);
      const pods = gatewayWorkloads(snap, gw);
      if (pods.length === 0) {
        ctx.report(gw, 'IST0101', ['selector', selectorString(selector)], selectorField(gw));
        continue;
      }
      const ports = new Set<number>();
      for (const pod of pods) {
        for (const svc of snap.of(K.Service)) {
          if (svc.namespace !== pod.namespace) continue;
          const sel = strMap(obj(svc.object.spec).selector);
          if (Object.keys(sel).length === 0 || !selectorMatches(sel, pod.labels)) continue;
          for (const p of arr(obj(svc.object.spec).ports)) {
            const proto = str(obj(p).protocol) || 'TCP';
            if (proto === 'TCP') ports.add(num(obj(p).port));
          }
        }
      }
      // only meaningful when the gateway's Service is known too
      if (ports.size === 0 && !snap.complete) continue;
      arr(obj(gw.object.spec).servers).forEach((server, i) => {
        const port = obj(obj(server).port);
        if (port.number === undefined) return;
        if (!ports.has(num(port.number))) ctx.report(gw, 'IST0162', [num(port.number), selectorString(selector)], ['spec', 'servers', i, 'port', 'number']);
      });
    }
  },
};

function secretProblem(secret: Resource, mutual: boolean): string | undefined {
  const data = { ...strMap(secret.object.data), ...strMap(secret.object.stringData) };
  const encoded = secret.object.stringData === undefined;
  const certKey = 'tls.crt' in data ? 'tls.crt' : 'cert' in data ? 'cert' : undefined;
  const keyKey = 'tls.key' in data ? 'tls.key' : 'key' in data ? 'key' : undefined;
  if (!certKey || !keyKey) return 'missing certificate or key';
  const pem = encoded && secret.object.data !== undefined ? Buffer.from(data[certKey], 'base64').toString('utf8') : data[certKey];
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return 'certificate is not PEM';
  try {
    const cert = new X509Certificate(pem);
    if (Date.parse(cert.validTo) < Date.now()) return 'certificate expired';
  } catch {
    return 'certificate cannot be parsed';
  }
  void mutual;
  return undefined;
}

export const secretAnalyzer: Analyzer = {
  name: 'gateway.SecretAnalyzer',
  description: "Checks a gateway's referenced secrets for correctness",
  codes: ['IST0101', 'IST0161'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    for (const gw of snap.of(K.Gateway)) {
      const pods = gatewayWorkloads(snap, gw);
      // the secret lives where the gateway pods run; without them, assume the Gateway's own namespace
      const ns = pods[0]?.namespace ?? gw.namespace;
      // Secrets are rarely kept in git: only check where the input shows the namespace's secrets
      if (!snap.secretsComplete && !snap.of(K.Secret).some((s) => s.namespace === ns)) continue;
      arr(obj(gw.object.spec).servers).forEach((server, i) => {
        const tls = obj(obj(server).tls);
        const cn = str(tls.credentialName);
        if (!cn) return;
        const [secretNs, secretName] = cn.includes('/') ? cn.split('/', 2) : [ns, cn];
        const secret = snap.get(K.Secret, secretNs, secretName);
        const at = ['spec', 'servers', i, 'tls', 'credentialName'];
        if (!secret) {
          ctx.report(gw, 'IST0101', ['credentialName', cn], at);
          return;
        }
        if (secretProblem(secret, str(tls.mode) === 'MUTUAL')) ctx.report(gw, 'IST0161', [gw.name, gw.namespace], at);
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

export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: "Checks a gateway's selector, port number and hosts",
  codes: ['IST0145'],
  analyze(ctx: Context) {
    // per selector and port: which gateways serve which exact host, and the wildcard hosts
    const byKey = new Map<string, { exact: Map<string, Set<Resource>>; wildcards: { host: string; gw: Resource }[] }>();
    const gws = ctx.snapshot.of(K.Gateway);
    const servers: { gw: Resource; i: number; key: string; hosts: string[] }[] = [];
    for (const gw of gws) {
      const sel = selectorString(selectorOf(gw));
      arr(obj(gw.object.spec).servers).forEach((server, i) => {
        const key = `${sel}~${num(obj(obj(server).port).number)}`;
        const hosts = arr(obj(server).hosts).map(str);
        servers.push({ gw, i, key, hosts });
        let entry = byKey.get(key);
        if (!entry) byKey.set(key, (entry = { exact: new Map(), wildcards: [] }));
        for (const h of hosts.map(stripNs)) {
          if (h.startsWith('*')) entry.wildcards.push({ host: h, gw });
          else {
            let set = entry.exact.get(h);
            if (!set) entry.exact.set(h, (set = new Set()));
            set.add(gw);
          }
        }
      });
    }
    for (const { gw, i, key, hosts } of servers) {
      const entry = byKey.get(key)!;
      const conflicts = new Set<string>();
      for (const raw of hosts) {
        const h = stripNs(raw);
        if (h.startsWith('*')) {
          for (const [host, set] of entry.exact) if (hostMatches(h, host)) for (const o of set) if (o !== gw) conflicts.add(fullName(o));
        } else {
          for (const o of entry.exact.get(h) ?? []) if (o !== gw) conflicts.add(fullName(o));
        }
        for (const w of entry.wildcards) if (w.gw !== gw && hostMatches(h, w.host)) conflicts.add(fullName(w.gw));
      }
      if (conflicts.size > 0) {
        const sel = key.slice(0, key.lastIndexOf('~'));
        const port = key.slice(key.lastIndexOf('~') + 1);
        ctx.report(gw, 'IST0145', [[...conflicts].join(','), sel, port, hosts.join(',')], ['spec', 'servers', i]);
      }
    }
  },
};

function stripNs(h: string): string {
  const slash = h.indexOf('/');
  return slash >= 0 ? h.slice(slash + 1) : h;
}
