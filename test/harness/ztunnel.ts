import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fixture } from '../helpers.js';
import type { ExecOutcome, KubeObject } from './apiserver.js';
import { type Backend, type Content, type Garble, garbled, serve } from './backends.js';

/**
 * The ambient part of the fake cluster: the ztunnel DaemonSet with one pod per node, each with an admin
 * server on its port 15000 answering /config_dump (fixtures/ztunnel, that node's view) and /logging as
 * ztunnel does, and the workload pods of fixtures/ztunnel/mesh.json scheduled on those nodes in their
 * ambient (or not) namespaces. Objects already present (same kind, namespace and name) are left alone.
 */

interface MeshPod {
  name: string;
  namespace: string;
  node: string;
  ip: string;
  app: string;
  serviceAccount: string;
  uid: string;
  sidecar: boolean;
  ztunnel: boolean;
  /** The waypoint (Gateway name) this pod is an instance of. */
  waypoint?: string;
}

interface Mesh {
  nodes: string[];
  namespaces: { name: string; ambient: boolean }[];
  pods: MeshPod[];
}

export const ZTUNNEL_NAMESPACE = 'istio-system';

function mesh(): Mesh {
  return JSON.parse(readFileSync(fixture('ztunnel', 'mesh.json'), 'utf8')) as Mesh;
}

/** ztunnel pod → the dump its admin port serves (the fixture of its node). */
export function ztunnelDumps(): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of mesh().pods.filter((x) => x.ztunnel)) {
    out.set(p.name, fixture('ztunnel', `ztunnel-${p.node.replace(/^ambient-/, '')}-config_dump.json`));
  }
  return out;
}

/** waypoint pod → the Envoy dump its admin port serves (fixtures/ztunnel/waypoint-<ns>-<name>-config_dump.json). */
export function waypointDumps(): Map<string, { namespace: string; dump: string }> {
  const out = new Map<string, { namespace: string; dump: string }>();
  for (const p of mesh().pods.filter((x) => x.waypoint)) {
    out.set(p.name, { namespace: p.namespace, dump: fixture('ztunnel', `waypoint-${p.namespace}-${p.waypoint}-config_dump.json`) });
  }
  return out;
}

/** The ztunnel pods by node, for tests. */
export function ztunnelPods(): { name: string; node: string }[] {
  return mesh().pods.filter((p) => p.ztunnel).map((p) => ({ name: p.name, node: p.node }));
}

const RUNNING = {
  phase: 'Running',
  conditions: [
    { type: 'Initialized', status: 'True' },
    { type: 'Ready', status: 'True' },
    { type: 'PodScheduled', status: 'True' },
  ],
  startTime: '2026-11-20T09:00:00Z',
};

export function ambientObjects(existing: KubeObject[]): KubeObject[] {
  const m = mesh();
  const have = new Set(existing.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
  const out: KubeObject[] = [];
  const add = (o: KubeObject) => {
    const key = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (!have.has(key)) {
      have.add(key);
      out.push(o);
    }
  };
  for (const ns of m.namespaces) {
    if (ns.name === 'istio-system' || ns.name === 'kube-system') continue;
    const labels: Record<string, string> = ns.ambient ? { 'istio.io/dataplane-mode': 'ambient' } : { 'istio-injection': 'enabled' };
    add({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels } });
  }
  add({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'ztunnel', namespace: ZTUNNEL_NAMESPACE, labels: { app: 'ztunnel' } },
    spec: { selector: { matchLabels: { app: 'ztunnel' } }, template: { metadata: { labels: { app: 'ztunnel' } } } },
  });
  // istiod and coredns of the dumps are not added: the cluster has its own istiods
  for (const p of m.pods.filter((x) => x.ztunnel || !['istio-system', 'kube-system'].includes(x.namespace))) {
    // a waypoint's pod is its Envoy alone (container istio-proxy), labelled as Istio's gateway controller does
    const containers = p.ztunnel
      ? [{ name: 'istio-proxy', image: 'docker.io/istio/ztunnel:1.26.1', ports: [{ containerPort: 15020, name: 'ztunnel-stats', protocol: 'TCP' }] }]
      : p.waypoint
        ? [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.26.1', args: ['proxy', 'waypoint'], ports: [{ containerPort: 15008, name: 'hbone', protocol: 'TCP' }] }]
        : [{ name: 'app', image: `registry.example/${p.app}:1.0` }, ...(p.sidecar ? [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.26.1' }] : [])];
    const labels: Record<string, string> = { app: p.app };
    if (p.ztunnel) labels['sidecar.istio.io/inject'] = 'false';
    if (p.waypoint) Object.assign(labels, { 'gateway.networking.k8s.io/gateway-name': p.waypoint, 'gateway.istio.io/managed': 'istio.io-mesh-controller', 'istio.io/dataplane-mode': 'none' });
    add({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: p.name,
        namespace: p.namespace,
        uid: p.uid,
        labels,
        creationTimestamp: '2026-11-20T09:00:00Z',
        ownerReferences: p.ztunnel ? [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ztunnel', controller: true }] : [],
        ...(p.ztunnel ? { annotations: { 'sidecar.istio.io/inject': 'false' } } : {}),
      },
      spec: { nodeName: p.node, serviceAccountName: p.serviceAccount, containers },
      status: { ...RUNNING, podIP: p.ip },
    });
  }
  return out;
}

export interface ZtunnelAdminFiles {
  configDump: Content;
  /** Paths accepted and never answered. */
  hang?: string[];
  garble?: Garble;
}

const DEFAULT_LEVEL = 'hickory_server::server=off,info';
const LEVELS = ['off', 'error', 'warn', 'info', 'debug', 'trace'];
const HELP = '\nusage: POST /logging\t\t\t\t\t\t(To list current level)\nusage: POST /logging?level=<level>\t\t\t\t(To change global levels)\n';

/** ztunnel's admin API (src/admin.rs): /config_dump, and /logging (POST only; `level`, `reset`). */
export function startZtunnelAdmin(files: ZtunnelAdminFiles): Promise<Backend> {
  const dump = typeof files.configDump === 'string' ? readFileSync(files.configDump, 'utf8') : files.configDump.text;
  let level = DEFAULT_LEVEL;
  const current = () => ({ status: 200, body: `current log level is ${level}\n`, type: 'text/plain' });
  return serve((method, url) => {
    if ((files.hang ?? []).includes(url.pathname)) return 'hang';
    switch (url.pathname) {
      case '/config_dump':
        return files.garble ? garbled(files.garble) : { status: 200, body: dump };
      case '/logging': {
        if (method !== 'POST') return { status: 405, body: `Invalid HTTP method\n ${HELP}`, type: 'text/plain' };
        const wanted = url.searchParams.get('level');
        const reset = url.searchParams.has('reset');
        if (wanted === null && !reset) return current();
        if (wanted) {
          const ok = wanted.split(',').every((c) => LEVELS.includes(c) || (/^[\w:-]+=[a-z]+$/.test(c) && LEVELS.includes(c.split('=')[1])));
          if (!ok) return { status: 400, body: `Invalid level provided: ${wanted}\n${HELP}`, type: 'text/plain' };
        }
        if (reset) level = DEFAULT_LEVEL;
        if (wanted) level = `hickory_server::server=off,${wanted}`;
        return current();
      }
      case '/':
        return { status: 200, body: '<html><head><title>ztunnel admin</title></head><body>config_dump logging</body></html>', type: 'text/html' };
      default:
        return { status: 404, body: '', type: 'text/plain' };
    }
  });
}

/**
 * `curl -sS --fail -X METHOD http://localhost:PORT/path` in a ztunnel's container (meshctl's exec
 * fallback), answered by the pod's backend as curl would: the body, or exit 22 on an HTTP error.
 */
export async function curlInPod(command: string[], backend: (port: number) => number | undefined): Promise<ExecOutcome> {
  const url = command.find((a) => /^https?:\/\//.test(a));
  const x = command.indexOf('-X');
  const method = x >= 0 ? command[x + 1] : 'GET';
  if (!url) return { stderr: 'curl: no URL specified!', exitCode: 2 };
  const u = new URL(url);
  const target = backend(Number(u.port || 80));
  if (target === undefined) return { stderr: `curl: (7) Failed to connect to ${u.hostname} port ${u.port}: Connection refused`, exitCode: 7 };
  const res = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: target, method, path: u.pathname + u.search, agent: false }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
  if (res.status >= 400 && command.includes('--fail')) return { stderr: `curl: (22) The requested URL returned error: ${res.status}`, exitCode: 22 };
  return { stdout: res.body, exitCode: 0 };
}
