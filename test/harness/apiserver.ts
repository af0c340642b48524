import { promises as fs } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { matchesFieldSelector, matchesLabelSelector } from './selectors.js';
import { DEFAULT_SERVED, type ServedVersions, servedVersions } from './served.js';

/**
 * An API-server stand-in on 127.0.0.1 for tests: REST reads of fixture objects, and the WebSocket
 * port-forward and exec subprotocols (v4.channel.k8s.io framing) as the kubelet speaks them, so that
 * @kubernetes/client-node runs unmodified against it. Nothing happens at import.
 * Each group/resource is served at some versions only (./served.ts): another version, or a CRD not
 * installed, is the real server's 404; objects come back in the version asked for, whatever version
 * they were written in (the real server converts between served versions).
 */

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface RbacDenial {
  verb: 'get' | 'list' | 'create';
  /** `pods`, `pods/portforward`, `pods/exec`, `deployments`… */
  resource: string;
  /** Refused across all namespaces only (a RoleBinding grants it in each namespace); everywhere when absent. */
  clusterWideOnly?: boolean;
  /** Refused in these namespaces only (no RoleBinding there; pair with `clusterWideOnly` for per-namespace RBAC). */
  namespaces?: string[];
}

export interface ExecOutcome {
  stdout?: Buffer | string;
  stderr?: string;
  exitCode: number;
}

export type ExecHandler = (pod: KubeObject, container: string, command: string[]) => Promise<ExecOutcome>;

export interface ApiServerOptions {
  objects: KubeObject[];
  /** Bearer token the server accepts (default `harness-token`). */
  token?: string;
  user?: string;
  deny?: RbacDenial[];
  /** Requests (by path prefix, query excluded) the server accepts and then never answers. */
  hangPaths?: string[];
  /** Requests (by path prefix, query excluded, REST and WebSocket alike) answered with this HTTP status and a Status body (e.g. 500). */
  failPaths?: { prefix: string; code: number }[];
  /** `namespace/pod:port` → a port on 127.0.0.1 that plays the process listening in the pod. */
  backends?: Map<string, number>;
  /** After this many bytes from the pod, the port-forward's WebSocket is cut (a dropped forward). */
  dropAfterBytes?: number;
  exec?: ExecHandler;
  /** Container logs: `namespace/pod/container` → text. */
  logs?: Map<string, string>;
  /** Serve HTTPS (and WSS) with this certificate and key (PEM), as real API servers do. */
  tls?: { cert: string; key: string };
  /**
   * Versions served per `plural.group`, over DEFAULT_SERVED (a current Istio and the Gateway API); `[]`:
   * not installed. E.g. `{ ...ISTIO_BEFORE_V1 }` for an Istio before 1.22, `notInstalled(GATEWAY_API)`.
   */
  served?: ServedVersions;
}

export interface ApiServer {
  url: string;
  /** Every request as `METHOD path?query` (WebSocket upgrades as `WS path?query`), in order. */
  requests: string[];
  options: ApiServerOptions;
  close(): Promise<void>;
}

const RESOURCES: Record<string, string> = {
  Pod: 'pods', Service: 'services', Endpoints: 'endpoints', Namespace: 'namespaces', ConfigMap: 'configmaps',
  Deployment: 'deployments', ReplicaSet: 'replicasets', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', Job: 'jobs',
};

function resourceOf(o: KubeObject): { group: string; resource: string } {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return { group, resource: RESOURCES[o.kind] ?? plural(o.kind) };
}

/** The API server's plural for a kind (AuthorizationPolicy → authorizationpolicies, ServiceEntry → serviceentries). */
export function plural(kind: string): string {
  const lower = kind.toLowerCase();
  if (/[^aeiou]y$/.test(lower)) return lower.slice(0, -1) + 'ies';
  if (/(s|x|ch|sh)$/.test(lower)) return lower + 'es';
  return lower + 's';
}

interface Route {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  sub?: string;
}

function parseRoute(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group = '';
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else return undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    return { group, version, namespace: rest[1], resource: rest[2], name: rest[3], sub: rest[4] };
  }
  if (rest.length >= 1) return { group, version, resource: rest[0], name: rest[1], sub: rest[2] };
  return undefined;
}

function groupVersion(route: Route): string {
  return route.group ? `${route.group}/${route.version}` : route.version;
}

/** The object is of the route's group and resource (any version: one object, served at each served version). */
function sameResource(o: KubeObject, route: Route): boolean {
  const r = resourceOf(o);
  return r.resource === route.resource && r.group === route.group;
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const token = options.token ?? 'harness-token';
  const user = options.user ?? 'system:serviceaccount:default:meshctl';
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : offered.has('channel.k8s.io') ? 'channel.k8s.io' : false),
  });

  const hangs = (pathname: string) => (options.hangPaths ?? []).some((p) => pathname.startsWith(p));
  const fails = (pathname: string) => (options.failPaths ?? []).find((p) => pathname.startsWith(p.prefix));
  const failure = (code: number) => status(code, code === 500 ? 'InternalError' : http.STATUS_CODES[code] ?? 'Unknown', `Internal error occurred: harness fault ${code}`);

  /** Authentication and RBAC, as the real server does them before anything else. */
  const admit = (req: http.IncomingMessage, verb: RbacDenial['verb'], route: Route): { code: number; body: object } | undefined => {
    if (req.headers.authorization !== `Bearer ${token}`) return { code: 401, body: status(401, 'Unauthorized', 'Unauthorized') };
    const resource = route.sub ? `${route.resource}/${route.sub}` : route.resource;
    const denies = (d: RbacDenial) => d.namespaces ? route.namespace !== undefined && d.namespaces.includes(route.namespace) : !(d.clusterWideOnly && route.namespace);
    if ((options.deny ?? []).some((d) => d.verb === verb && d.resource === resource && denies(d))) {
      const scope = route.namespace ? ` in the namespace "${route.namespace}"` : ' at the cluster scope';
      const msg = `${resource}${route.name ? ` "${route.name}"` : ''} is forbidden: User "${user}" cannot ${verb} resource "${route.resource}"${route.sub ? ` (subresource "${route.sub}")` : ''} in API group "${route.group}"${scope}`;
      return { code: 403, body: status(403, 'Forbidden', msg, { name: route.name, kind: route.resource }) };
    }
    return undefined;
  };

  const served = { ...DEFAULT_SERVED, ...options.served };
  /** The route's version is served for its group/resource (else the real server's 404 for an unknown path). */
  const isServed = (route: Route): boolean =>
    servedVersions(served, route.group, route.resource, () =>
      options.objects.filter((o) => sameResource(o, route)).map((o) => o.apiVersion.split('/').pop()!),
    ).includes(route.version);
  const notServed = () => status(404, 'NotFound', 'the server could not find the requested resource', {});
  /** As the client asked for it: the API server converts between the versions it serves. */
  const asRequested = (o: KubeObject, route: Route): KubeObject => ({ ...o, apiVersion: groupVersion(route) });

  const find = (route: Route): KubeObject[] =>
    options.objects.filter((o) => {
      if (!sameResource(o, route)) return false;
      if (route.resource === 'namespaces') return true;
      return route.namespace === undefined || o.metadata.namespace === route.namespace;
    });

  const handler: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (hangs(url.pathname)) return; // accepted, never answered
    const failed = fails(url.pathname);
    const send = (code: number, body: unknown, type = 'application/json') => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (failed) return send(failed.code, failure(failed.code));
    const route = parseRoute(url.pathname);
    if (!route || req.method !== 'GET') {
      send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    const verb = route.name ? 'get' : 'list';
    const refused = admit(req, verb, route);
    if (refused) return send(refused.code, refused.body);
    if (!isServed(route)) return send(404, notServed());

    if (route.resource === 'namespaces' && route.name && !route.sub) {
      const ns = find(route).find((o) => o.metadata.name === route.name);
      return ns ? send(200, asRequested(ns, route)) : send(404, status(404, 'NotFound', `namespaces "${route.name}" not found`, { name: route.name, kind: 'namespaces' }));
    }
    if (route.name) {
      const obj = find(route).find((o) => o.metadata.name === route.name);
      if (!obj) return send(404, status(404, 'NotFound', `${route.resource} "${route.name}" not found`, { name: route.name, kind: route.resource }));
      if (route.sub === 'log') {
        const container = url.searchParams.get('container') ?? '';
        const text = options.logs?.get(`${route.namespace}/${route.name}/${container}`) ?? '';
        const tail = Number(url.searchParams.get('tailLines') ?? 0);
        const lines = text.split('\n');
        return send(200, tail > 0 ? lines.slice(-tail - 1).join('\n') : text, 'text/plain');
      }
      if (route.sub) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return send(200, asRequested(obj, route));
    }
    const items = find(route).filter(
      (o) => matchesLabelSelector(o.metadata.labels ?? {}, url.searchParams.get('labelSelector'))
        && matchesFieldSelector(o, url.searchParams.get('fieldSelector')),
    );
    const kind = (items[0]?.kind ?? route.resource.replace(/s$/, '').replace(/^./, (c) => c.toUpperCase())) + 'List';
    send(200, { kind, apiVersion: groupVersion(route), metadata: { resourceVersion: '1' }, items: items.map((o) => asRequested(o, route)) });
  };
  const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler) : http.createServer(handler);

  server.on(options.tls ? 'secureConnection' : 'connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`WS ${url.pathname}${url.search}`);
    if (hangs(url.pathname)) return;
    const reject = (code: number, body: object) => {
      const text = JSON.stringify(body);
      socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    };
    const failed = fails(url.pathname);
    if (failed) return reject(failed.code, failure(failed.code));
    const route = parseRoute(url.pathname);
    if (!route || route.resource !== 'pods' || !route.name || (route.sub !== 'portforward' && route.sub !== 'exec')) {
      return reject(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    }
    const refused = admit(req, 'create', route);
    if (refused) return reject(refused.code, refused.body);
    if (!isServed(route)) return reject(404, notServed());
    const pod = find(route).find((o) => o.metadata.name === route.name);
    if (!pod) return reject(404, status(404, 'NotFound', `pods "${route.name}" not found`, { name: route.name, kind: 'pods' }));
    if (route.sub === 'exec') {
      const container = url.searchParams.get('container') ?? '';
      const containers = ((pod.spec as { containers?: { name: string }[] })?.containers ?? []).map((c) => c.name);
      if (!containers.includes(container)) {
        return reject(400, status(400, 'BadRequest', `container ${container} is not valid for pod ${route.name}`));
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (route.sub === 'portforward') portForward(ws, pod, Number(url.searchParams.get('ports')));
      else void exec(ws, pod, url.searchParams.get('container') ?? '', url.searchParams.getAll('command'));
    });
  });

  const portForward = (ws: WebSocket, pod: KubeObject, port: number) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(port, 0);
    // the kubelet opens each port with its number on the data and the error channel
    ws.send(Buffer.concat([Buffer.from([0]), prefix]));
    ws.send(Buffer.concat([Buffer.from([1]), prefix]));
    const key = `${pod.metadata.namespace}/${pod.metadata.name}:${port}`;
    const target = options.backends?.get(key);
    const refuse = () => {
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(
        `error forwarding port ${port} to pod ${pod.metadata.name}, uid : failed to connect to localhost:${port} inside namespace: dial tcp4 127.0.0.1:${port}: connect: connection refused`,
      )]));
      ws.close();
    };
    if (target === undefined) return refuse();
    const backend = net.connect(target, '127.0.0.1');
    let sent = 0;
    backend.on('error', () => refuse());
    backend.on('data', (data: Buffer) => {
      const limit = options.dropAfterBytes;
      if (limit !== undefined && sent + data.length > limit) {
        ws.send(Buffer.concat([Buffer.from([0]), data.subarray(0, Math.max(0, limit - sent))]), () => ws.terminate());
        sent = limit;
        backend.destroy();
        return;
      }
      sent += data.length;
      ws.send(Buffer.concat([Buffer.from([0]), data]));
    });
    backend.on('end', () => ws.close());
    ws.on('message', (msg: Buffer, isBinary: boolean) => {
      if (!isBinary || msg.length < 1) return;
      if (msg[0] === 0 && msg.length > 1) backend.write(msg.subarray(1));
    });
    ws.on('close', () => backend.destroy());
    ws.on('error', () => backend.destroy());
  };

  const exec = async (ws: WebSocket, pod: KubeObject, container: string, command: string[]) => {
    let outcome: ExecOutcome;
    try {
      outcome = options.exec ? await options.exec(pod, container, command) : { stderr: `exec: "${command[0]}": not supported by the harness`, exitCode: 126 };
    } catch (err) {
      outcome = { stderr: String(err), exitCode: 1 };
    }
    const frame = (channel: number, data: Buffer | string) => Buffer.concat([Buffer.from([channel]), Buffer.from(data)]);
    if (outcome.stdout && outcome.stdout.length > 0) ws.send(frame(1, outcome.stdout));
    if (outcome.stderr) ws.send(frame(2, outcome.stderr));
    const st = outcome.exitCode === 0
      ? { metadata: {}, status: 'Success' }
      : {
          metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
          message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${outcome.exitCode}`,
          details: { causes: [{ reason: 'ExitCode', message: String(outcome.exitCode) }] },
        };
    ws.send(frame(3, JSON.stringify(st)), () => ws.close());
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    options,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        for (const s of sockets) s.destroy();
        wss.close();
        server.close(() => resolve());
      }),
  };
}

export interface KubeconfigSpec {
  server: string;
  token?: string;
  namespace?: string;
  context?: string;
  /** PEM of the CA that signed the server's certificate (HTTPS servers): written as certificate-authority-data. */
  ca?: string;
  /** Extra contexts (same cluster and user unless `server` names another stand-in), for --context tests. */
  otherContexts?: { name: string; namespace?: string; server?: string }[];
  currentContext?: string | null;
}

/** A kubeconfig YAML file pointing at the stand-in (plain HTTP needs TLS verification off for client-node; HTTPS takes the CA). */
export async function writeKubeconfig(file: string, spec: KubeconfigSpec): Promise<string> {
  const context = spec.context ?? 'harness';
  const contexts: { name: string; namespace?: string; server?: string }[] = [{ name: context, namespace: spec.namespace }, ...(spec.otherContexts ?? [])];
  const cluster = (name: string, server: string) => [
    `- name: ${name}`,
    '  cluster:',
    `    server: ${server}`,
    ...(server.startsWith('https:')
      ? spec.ca ? [`    certificate-authority-data: ${Buffer.from(spec.ca).toString('base64')}`] : []
      : ['    insecure-skip-tls-verify: true']),
  ];
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    ...cluster(`${context}-cluster`, spec.server),
    ...contexts.flatMap((c) => (c.server ? cluster(`${c.name}-cluster`, c.server) : [])),
    'users:',
    `- name: ${context}-user`,
    '  user:',
    `    token: ${spec.token ?? 'harness-token'}`,
    'contexts:',
    ...contexts.flatMap((c) => [
      `- name: ${c.name}`,
      '  context:',
      `    cluster: ${c.server ? c.name : context}-cluster`,
      `    user: ${context}-user`,
      ...(c.namespace ? [`    namespace: ${c.namespace}`] : []),
    ]),
  ];
  if (spec.currentContext !== null) lines.push(`current-context: ${spec.currentContext ?? context}`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, lines.join('\n') + '\n');
  return file;
}
