/**
 * A fake cluster of many proxies for the live-mode benchmark: the test harness's API-server stand-in
 * (real REST and WebSocket port-forward) with istiod replicas whose /debug/syncz lists `proxies`
 * sidecars, behind a TCP relay that counts how many connections meshctl holds open at once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { registryz } from './admin.js';
import { ChunkWriter, writeJson } from './json-stream.js';
import { buildMesh } from './mesh.js';

/* The harness lives in test/harness (branch live); it is loaded at run time so that this file builds
   before it lands. Only what the benchmark calls is typed here. */
interface Backend {
  port: number;
  requests: string[];
  close(): Promise<void>;
}
interface ApiServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}
interface Harness {
  startApiServer(o: { objects: unknown[]; backends: Map<string, number> }): Promise<ApiServer>;
  writeKubeconfig(file: string, spec: { server: string }): Promise<string>;
  startIstiodDebug(files: { registryz: string; syncz: string; configz: string; endpointz: string; adsz: string }): Promise<Backend>;
  startEnvoyAdmin(files: { configDump: string; configDumpWithEds?: string; clusters?: string }): Promise<Backend>;
}

export async function loadHarness(root: string): Promise<Harness | string> {
  const dir = path.join(root, 'dist', 'test', 'harness');
  try {
    const api = await import(pathToFileURL(path.join(dir, 'apiserver.js')).href);
    const backends = await import(pathToFileURL(path.join(dir, 'backends.js')).href);
    if (typeof api.startApiServer !== 'function' || typeof backends.startIstiodDebug !== 'function' || typeof backends.startEnvoyAdmin !== 'function') {
      return 'the test harness does not export startApiServer/startIstiodDebug/startEnvoyAdmin';
    }
    return { startApiServer: api.startApiServer, writeKubeconfig: api.writeKubeconfig, startIstiodDebug: backends.startIstiodDebug, startEnvoyAdmin: backends.startEnvoyAdmin };
  } catch (err) {
    return `the live-mode test harness (test/harness, branch live) is not on this branch yet (${(err as Error).message.split('\n')[0]})`;
  }
}

/** Counts concurrent connections on their way to `target` (a port on 127.0.0.1). */
export interface Relay {
  port: number;
  maxActive: number;
  total: number;
  close(): Promise<void>;
}

/** `all` counts across several relays (e.g. every istiod replica of a cluster). */
export async function startRelay(target: number, all: { active: number; max: number } = { active: 0, max: 0 }): Promise<Relay> {
  let active = 0;
  const sockets = new Set<net.Socket>();
  const relay: Relay = {
    port: 0,
    maxActive: 0,
    total: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    relay.total++;
    relay.maxActive = Math.max(relay.maxActive, ++active);
    all.max = Math.max(all.max, ++all.active);
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    let closed = false;
    const done = () => {
      if (closed) return;
      closed = true;
      active--;
      all.active--;
      client.destroy();
      upstream.destroy();
    };
    client.on('close', done);
    upstream.on('close', done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as net.AddressInfo).port;
  return relay;
}

const T = 'type.googleapis.com/envoy.config.';
const TYPES = [`${T}cluster.v3.Cluster`, `${T}listener.v3.Listener`, `${T}endpoint.v3.ClusterLoadAssignment`, `${T}route.v3.RouteConfiguration`];

export interface LiveCluster {
  kubeconfig: string;
  proxies: number;
  istiods: number;
  relays: Relay[];
  /** connections open at once to all istiods together */
  open: { active: number; max: number };
  /** connections open at once to the sidecars' Envoy admin ports */
  envoyOpen: { active: number; max: number };
  /** every sidecar pod is in this namespace, labelled bench=fanout */
  namespace: string;
  api: ApiServer;
  close(): Promise<void>;
}

/**
 * Writes the istiods' debug answers for `proxies` sidecars and starts the fake cluster. The sidecar
 * pods all live in one namespace (`bench`, label `bench=fanout`) so that one selector fans out to all.
 */
export async function startLiveCluster(harness: Harness, dir: string, proxies: number, istiodCount = 3, envoyDump?: string): Promise<LiveCluster> {
  const NS = 'bench';
  mkdirSync(dir, { recursive: true });
  // enough services for `proxies` pods (a service has 1-6)
  const mesh = buildMesh(Math.max(1, Math.ceil(proxies / 2)), 1);
  const pods = mesh.services.flatMap((s) => s.pods.map((p) => ({ s, p }))).slice(0, proxies);
  if (pods.length < proxies) throw new Error(`the generated mesh has only ${pods.length} pods`);
  const file = (name: string, value: unknown) => {
    const f = path.join(dir, name);
    const out = new ChunkWriter(f);
    writeJson(out, value);
    out.close();
    return f;
  };
  const registry = file('registryz.json', registryz(mesh));
  const configz = file('configz.json', []);
  const endpointz = file('endpointz.json', {});
  const objects: unknown[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'istio-injection': 'enabled' } } },
  ];
  const backends = new Map<string, number>();
  const relays: Relay[] = [];
  const open = { active: 0, max: 0 };
  const istiodBackends: Backend[] = [];
  for (let k = 0; k < istiodCount; k++) {
    const name = `istiod-6d8f9c7b54-${'abcdefghij'[k]}${k}x7z`;
    const mine = pods.filter((_, i) => i % istiodCount === k);
    const syncz = mine.map(({ s, p }, i) => {
      const stale = i % 97 === 13; // a few proxies have not acked the last push
      const sent = `2026-11-21T09:1${k}:00Z/${400 + k}`;
      const acked = stale ? `2026-11-21T09:0${k}:00Z/${399 + k}` : sent;
      return {
        cluster_id: 'Kubernetes',
        proxy: `${p.name}.${NS}`,
        proxy_type: 'sidecar',
        istio_version: '1.24.2',
        cluster_sent: sent, cluster_acked: sent,
        listener_sent: sent, listener_acked: acked,
        endpoint_sent: sent, endpoint_acked: sent,
        route_sent: sent, route_acked: sent,
        resources: Object.fromEntries(TYPES.map((t) => [t, { sent, acked: t.includes('listener') ? acked : sent, sentTime: '2026-11-21T09:10:00Z' }])),
      };
    });
    const adsz = { totalClients: mine.length, clients: mine.map(({ p }, i) => ({ connectionId: `sidecar~${p.ip}~${p.name}.${NS}~${NS}.svc.cluster.local-${i + 1}`, connectedAt: '2026-11-21T08:00:00Z', address: `${p.ip}:4${String(i % 10000).padStart(4, '0')}` })) };
    const b = await startIstiodDebug(harness, { registryz: registry, syncz: file(`syncz-${k}.json`, syncz), configz, endpointz, adsz: file(`adsz-${k}.json`, adsz) });
    istiodBackends.push(b);
    const relay = await startRelay(b.port, open);
    relays.push(relay);
    backends.set(`istio-system/${name}:15014`, relay.port);
    objects.push(pod(name, 'istio-system', `10.244.250.${10 + k}`, { app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default' }, ['discovery']));
  }
  // one Envoy admin server plays every sidecar's port 15000, behind a counting relay
  const envoyOpen = { active: 0, max: 0 };
  let envoy: Backend | undefined;
  if (envoyDump) {
    envoy = await harness.startEnvoyAdmin({ configDump: envoyDump });
    const relay = await startRelay(envoy.port, envoyOpen);
    relays.push(relay);
    for (const { p } of pods) backends.set(`${NS}/${p.name}:15000`, relay.port);
  }
  for (const { s, p } of pods) {
    objects.push(pod(p.name, NS, p.ip, { app: s.name, version: p.version, bench: 'fanout', 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': s.name }, [s.name, 'istio-proxy']));
  }
  const api = await harness.startApiServer({ objects, backends });
  const kubeconfig = await harness.writeKubeconfig(path.join(dir, 'kubeconfig'), { server: api.url });
  writeFileSync(path.join(dir, 'README'), 'generated by bench/run.ts for the proxy-status benchmark\n');
  return {
    kubeconfig,
    proxies,
    istiods: istiodCount,
    relays,
    open,
    envoyOpen,
    namespace: NS,
    api,
    close: async () => {
      await api.close();
      for (const r of relays) await r.close();
      for (const b of istiodBackends) await b.close();
      await envoy?.close();
    },
  };
}

function startIstiodDebug(h: Harness, files: Parameters<Harness['startIstiodDebug']>[0]): Promise<Backend> {
  return h.startIstiodDebug(files);
}

function pod(name: string, namespace: string, ip: string, labels: Record<string, string>, containers: string[]) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, creationTimestamp: '2026-11-21T08:00:00Z', ...(containers.includes('istio-proxy') ? { annotations: { 'sidecar.istio.io/status': '{"containers":["istio-proxy"],"revision":"default"}' } } : {}) },
    spec: { nodeName: 'worker-1', containers: containers.map((c) => ({ name: c, image: c === 'istio-proxy' ? 'docker.io/istio/proxyv2:1.24.2' : `registry.example.com/${c}:1`, ports: c === 'discovery' ? [{ containerPort: 15014, name: 'http-monitoring' }] : [] })) },
    status: {
      phase: 'Running',
      podIP: ip,
      conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }],
      containerStatuses: containers.map((c) => ({ name: c, ready: true, started: true, restartCount: 0, state: { running: { startedAt: '2026-11-21T08:00:05Z' } } })),
    },
  };
}
