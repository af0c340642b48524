/**
 * A deterministic model of a mesh (namespaces, services, ports, versions, pods, routing rules) from
 * which every generated artifact is written, so the config dump, the YAML resources, /clusters and
 * registryz all describe the same mesh.
 */

export type Protocol = 'HTTP' | 'GRPC' | 'TCP';

export interface ServicePort {
  name: string;
  port: number;
  targetPort: number;
  protocol: Protocol;
}

export interface Pod {
  name: string;
  ip: string;
  version: string;
  zone: string;
  healthy: boolean;
}

export interface HttpRoute {
  name: string;
  /** prefix match; exact header match when header is set */
  prefix: string;
  header?: { name: string; exact: string };
  /** subset → weight (one entry: plain route) */
  destinations: { subset: string; weight: number }[];
  timeout?: string;
  retries?: number;
  rewrite?: string;
}

export interface Service {
  index: number;
  name: string;
  namespace: string;
  fqdn: string;
  clusterIP: string;
  ports: ServicePort[];
  versions: string[];
  pods: Pod[];
  serviceAccount: string;
  /** DestinationRule with one subset per version */
  destinationRule: boolean;
  drMutualTls: boolean;
  /** VirtualService routes (HTTP/gRPC services only) */
  routes: HttpRoute[] | null;
  /** bound to the namespace's ingress Gateway too */
  gateway: boolean;
}

export interface Mesh {
  seed: number;
  services: Service[];
  namespaces: string[];
  /** the workload whose sidecar's config dump is generated */
  proxy: { pod: Pod; service: Service };
  region: string;
  zones: string[];
}

/** mulberry32: small, fast, good enough for reproducible test data */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEAMS = ['shop', 'payments', 'identity', 'search', 'media', 'logistics', 'analytics', 'platform', 'messaging', 'catalog'];
const WORDS = [
  'cart', 'checkout', 'orders', 'inventory', 'pricing', 'billing', 'ledger', 'invoices', 'refunds', 'accounts',
  'users', 'profiles', 'sessions', 'tokens', 'reviews', 'ratings', 'details', 'recommendations', 'shipping', 'tracking',
  'warehouse', 'catalog', 'search', 'suggest', 'images', 'thumbnails', 'video', 'transcoder', 'notifications', 'email',
  'sms', 'webhooks', 'events', 'audit', 'reports', 'metrics-api', 'frontend', 'bff', 'gateway-api', 'currency',
];
const HTTP_PORTS = [80, 8080, 9080, 8000, 3000, 8081];
const GRPC_PORTS = [9090, 50051, 7070];
const TCP_PORTS: [string, number][] = [['mysql', 3306], ['redis', 6379], ['postgres', 5432], ['mongo', 27017], ['kafka', 9092]];

export const SERVICES_PER_NAMESPACE = 25;

export function buildMesh(count: number, seed = 1): Mesh {
  if (!Number.isInteger(count) || count < 1) throw new Error('--services must be a positive integer');
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const region = 'us-east1';
  const zones = ['us-east1-b', 'us-east1-c', 'us-east1-d'];
  const nsCount = Math.max(1, Math.ceil(count / SERVICES_PER_NAMESPACE));
  const namespaces = Array.from({ length: nsCount }, (_, k) =>
    k < TEAMS.length ? TEAMS[k] : `${TEAMS[k % TEAMS.length]}-${Math.floor(k / TEAMS.length)}`,
  );
  const services: Service[] = [];
  let podIndex = 0;
  for (let i = 0; i < count; i++) {
    const namespace = namespaces[i % nsCount];
    const word = WORDS[i % WORDS.length];
    const round = Math.floor(i / WORDS.length);
    const name = round === 0 ? word : `${word}-${round}`;
    const fqdn = `${name}.${namespace}.svc.cluster.local`;
    const kind = rnd();
    const ports: ServicePort[] = [];
    if (kind < 0.7) {
      const p = pick(HTTP_PORTS);
      ports.push({ name: 'http', port: p, targetPort: p === 80 ? 8080 : p, protocol: 'HTTP' });
      if (rnd() < 0.3) ports.push({ name: 'http-admin', port: 8090, targetPort: 8090, protocol: 'HTTP' });
    } else if (kind < 0.85) {
      const p = pick(GRPC_PORTS);
      ports.push({ name: 'grpc', port: p, targetPort: p, protocol: 'GRPC' });
      if (rnd() < 0.5) ports.push({ name: 'http-metrics', port: 9091, targetPort: 9091, protocol: 'HTTP' });
    } else {
      const [n, p] = pick(TCP_PORTS);
      ports.push({ name: `tcp-${n}`, port: p, targetPort: p, protocol: 'TCP' });
    }
    const nVersions = 1 + Math.floor(rnd() * 3);
    const versions = Array.from({ length: nVersions }, (_, v) => `v${v + 1}`);
    const pods: Pod[] = [];
    for (const version of versions) {
      const replicas = 1 + Math.floor(rnd() * 2);
      for (let r = 0; r < replicas; r++) {
        const k = podIndex++;
        const a = k + 2; // skip the network address and the gateway
        pods.push({
          name: `${name}-${version}-${hash(seed, i, k)}-${suffix(seed, k)}`,
          ip: `10.${244 + (a >> 16)}.${(a >> 8) & 255}.${a & 255}`,
          version,
          zone: zones[k % zones.length],
          healthy: rnd() > 0.03,
        });
      }
    }
    const http = ports[0].protocol !== 'TCP';
    const destinationRule = rnd() < 0.6;
    const withVs = http && rnd() < 0.6;
    services.push({
      index: i,
      name,
      namespace,
      fqdn,
      clusterIP: `10.96.${(i + 10) >> 8}.${(i + 10) & 255}`,
      ports,
      versions,
      pods,
      serviceAccount: `${name}-sa`,
      destinationRule,
      drMutualTls: destinationRule && rnd() < 0.5,
      routes: withVs ? makeRoutes(rnd, destinationRule ? versions : []) : null,
      gateway: withVs && i % 20 === 0,
    });
  }
  const service = services[0];
  return { seed, services, namespaces, proxy: { pod: service.pods[0], service }, region, zones };
}

function makeRoutes(rnd: () => number, versions: string[]): HttpRoute[] {
  const subset = (v: string | undefined) => v ?? '';
  const v1 = subset(versions[0]);
  const v2 = subset(versions[1] ?? versions[0]);
  const routes: HttpRoute[] = [];
  if (versions.length > 1) {
    routes.push({ name: 'canary-testers', prefix: '/', header: { name: 'end-user', exact: 'jason' }, destinations: [{ subset: v2, weight: 100 }] });
    const w = 5 + Math.floor(rnd() * 4) * 5;
    routes.push({
      name: 'api-v2-split',
      prefix: '/api/v2',
      destinations: [
        { subset: v1, weight: 100 - w },
        { subset: v2, weight: w },
      ],
      timeout: '5s',
      retries: 2,
    });
  }
  routes.push({ name: 'legacy', prefix: '/legacy/', destinations: [{ subset: v1, weight: 100 }], rewrite: '/' });
  routes.push({ name: 'api', prefix: '/api/', destinations: [{ subset: v1, weight: 100 }], timeout: '15s', retries: 3 });
  routes.push({ name: 'default', prefix: '/', destinations: [{ subset: v1, weight: 100 }] });
  return routes;
}

function hash(seed: number, i: number, k: number): string {
  let h = (seed * 2654435761 + i * 40503 + k * 9973) >>> 0;
  let s = '';
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  for (let n = 0; n < 10; n++) {
    s += alphabet[h % alphabet.length];
    h = Math.floor(h / alphabet.length) ^ (h * 31 + n);
    h >>>= 0;
  }
  return s;
}

function suffix(seed: number, k: number): string {
  return hash(seed + 7, k, k * 3).slice(0, 5);
}

/** Istio cluster name: direction|port|subset|fqdn */
export function clusterName(port: number, subset: string, fqdn: string): string {
  return `outbound|${port}|${subset}|${fqdn}`;
}
