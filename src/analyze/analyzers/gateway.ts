import { X509Certificate } from 'node:crypto';
import type { Resource } from '../../resources/index.js';
import { fullName, type Analyzer, type Context } from '../analyzer.js';
import { hostMatches } from '../hosts.js';
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
  return snap.workloads().some((w) => keys.some((k) => k in w.labels));
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
      if (!snap.complete && !snap.of(K.Secret).some((s) => s.namespace === ns)) continue;
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

function sameCertificate(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ac = str(a.credentialName);
  const bc = str(b.credentialName);
  if (ac && bc) return ac === bc;
  if (!ac && !bc && str(a.serverCertificate) && str(a.serverCertificate) === str(b.serverCertificate)) {
    return !!str(a.privateKey) && str(a.privateKey) === str(b.privateKey);
  }
  return false;
}

export const certificateAnalyzer: Analyzer = {
  name: 'gateway.CertificateAnalyzer',
  description: 'Checks a gateway certificate',
  codes: ['IST0138'],
  analyze(ctx: Context) {
    const gws = ctx.snapshot.of(K.Gateway);
    for (const cur of gws) {
      const curSel = selectorOf(cur);
      for (const other of gws) {
        if (other === cur) continue;
        // Istio scopes gateways to their workloads: a selector that is a subset of the other's
        if (Object.keys(curSel).length > 0 && !selectorMatches(curSel, selectorOf(other))) continue;
        let dup = false;
        for (const s1 of arr(obj(cur.object.spec).servers)) {
          for (const s2 of arr(obj(other.object.spec).servers)) {
            const t1 = obj(s1).tls;
            const t2 = obj(s2).tls;
            if (t1 === undefined || t2 === undefined) continue;
            if (sameCertificate(obj(t1), obj(t2))) dup = true;
          }
        }
        if (dup) ctx.report(cur, 'IST0138', [[fullName(cur), fullName(other)]], ['metadata', 'name']);
      }
    }
  },
};

export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: "Checks a gateway's selector, port number and hosts",
  codes: ['IST0145'],
  analyze(ctx: Context) {
    const byKey = new Map<string, { gw: Resource; hosts: string[] }[]>();
    const gws = ctx.snapshot.of(K.Gateway);
    for (const gw of gws) {
      const sel = selectorString(selectorOf(gw));
      for (const server of arr(obj(gw.object.spec).servers)) {
        const key = `${sel}~${num(obj(obj(server).port).number)}`;
        let list = byKey.get(key);
        if (!list) byKey.set(key, (list = []));
        list.push({ gw, hosts: arr(obj(server).hosts).map(str) });
      }
    }
    for (const gw of gws) {
      const sel = selectorString(selectorOf(gw));
      arr(obj(gw.object.spec).servers).forEach((server, i) => {
        const port = num(obj(obj(server).port).number);
        const hosts = arr(obj(server).hosts).map(str);
        const conflicts: string[] = [];
        for (const other of byKey.get(`${sel}~${port}`) ?? []) {
          if (other.gw === gw) continue;
          for (const h of hosts) {
            if (other.hosts.some((o) => hostMatches(stripNs(h), stripNs(o)))) conflicts.push(fullName(other.gw));
          }
        }
        if (conflicts.length > 0) ctx.report(gw, 'IST0145', [[...new Set(conflicts)].join(','), sel, String(port), hosts.join(',')], ['spec', 'servers', i]);
      });
    }
  },
};

function stripNs(h: string): string {
  const slash = h.indexOf('/');
  return slash >= 0 ? h.slice(slash + 1) : h;
}
