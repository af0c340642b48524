import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';

/** Real HTTP servers on 127.0.0.1 that play the processes inside pods: Envoy's admin API and istiod's debug API. */

export interface Backend {
  port: number;
  /** Paths requested, in order (`GET /config_dump?include_eds`). */
  requests: string[];
  close(): Promise<void>;
}

export type Handler = (method: string, url: URL, body: string) => { status: number; body: string; type?: string } | 'hang';

export async function serve(handler: Handler): Promise<Backend> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const answer = handler(req.method ?? 'GET', url, body);
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json', 'content-length': Buffer.byteLength(answer.body) });
      res.end(answer.body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A file path, or the answer itself (`{ text }`) for generated data such as benchmarks. */
export type Content = string | { text: string };

function load(c: Content): string {
  return typeof c === 'string' ? readFileSync(c, 'utf8') : c.text;
}

export interface EnvoyAdminFiles {
  configDump: Content;
  configDumpWithEds?: Content;
  clusters?: Content;
  serverInfo?: Content;
  /** Paths this Envoy accepts and never answers (timeout tests). */
  hang?: string[];
  /** Answer every JSON endpoint with an HTML error page or binary garbage (status 200) instead. */
  garble?: Garble;
}

export type Garble = 'html' | 'garbage';

/** What a broken proxy or a sidecar-less port sometimes answers instead of JSON. */
export function garbled(kind: Garble): { status: number; body: string; type: string } {
  return kind === 'html'
    ? { status: 200, body: '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n', type: 'text/html' }
    : { status: 200, body: '\u0000\u0001\u00ff{"configs": [\u0007garbage', type: 'application/json' };
}

const LOGGERS = ['admin', 'connection', 'config', 'http', 'router', 'upstream', 'wasm'];

/** Envoy's admin API: config_dump (with include_eds), clusters, server_info, logging (GET shows, POST sets). */
export function startEnvoyAdmin(files: EnvoyAdminFiles): Promise<Backend> {
  const read = (f: Content | undefined) => (f ? load(f) : undefined);
  const dump = read(files.configDump)!;
  const dumpEds = read(files.configDumpWithEds) ?? dump;
  const clusters = read(files.clusters);
  const serverInfo = read(files.serverInfo);
  const levels = new Map(LOGGERS.map((l) => [l, 'warning']));
  const loggingText = () => 'active loggers:\n' + [...levels].map(([k, v]) => `  ${k}: ${v}\n`).join('');
  return serve((method, url) => {
    if ((files.hang ?? []).includes(url.pathname)) return 'hang';
    if (files.garble && ['/config_dump', '/clusters', '/server_info'].includes(url.pathname)) return garbled(files.garble);
    switch (url.pathname) {
      case '/':
        return { status: 200, body: '<html><head><title>Envoy Admin</title></head><body>admin commands</body></html>', type: 'text/html' };
      case '/config_dump':
        return { status: 200, body: url.searchParams.has('include_eds') ? dumpEds : dump };
      case '/clusters':
        return clusters && url.searchParams.get('format') === 'json'
          ? { status: 200, body: clusters }
          : { status: 200, body: 'outbound|9080||reviews.default.svc.cluster.local::10.244.2.7:9080::health_flags::healthy\n', type: 'text/plain' };
      case '/server_info':
        return serverInfo ? { status: 200, body: serverInfo } : { status: 404, body: 'invalid path\n', type: 'text/plain' };
      case '/logging': {
        // Envoy's /logging mutates state: it answers only POST, listing the loggers when given no query
        if (method !== 'POST') return { status: 405, body: 'Method GET not allowed, POST required.\n', type: 'text/plain' };
        if (url.search === '') return { status: 200, body: loggingText(), type: 'text/plain' };
        const level = url.searchParams.get('level');
        const valid = ['trace', 'debug', 'info', 'warning', 'warn', 'error', 'critical', 'off'];
        if (level !== null) {
          if (!valid.includes(level)) return { status: 404, body: `error: unknown logger level\n\n${loggingText()}`, type: 'text/plain' };
          for (const k of levels.keys()) levels.set(k, level);
        }
        const paths = url.searchParams.get('paths');
        for (const pair of paths ? paths.split(',') : []) {
          const [name, lvl] = pair.split(':');
          if (!levels.has(name) || !valid.includes(lvl)) return { status: 404, body: `error: unknown logger or level in ${pair}\n`, type: 'text/plain' };
          levels.set(name, lvl);
        }
        for (const [name, lvl] of url.searchParams) {
          if (name === 'level' || name === 'paths') continue;
          if (!levels.has(name)) return { status: 404, body: `error: unknown logger ${name}\n`, type: 'text/plain' };
          levels.set(name, lvl);
        }
        return { status: 200, body: loggingText(), type: 'text/plain' };
      }
      default:
        return { status: 404, body: `invalid path: ${url.pathname}\n`, type: 'text/plain' };
    }
  });
}

export interface IstiodFiles {
  registryz: Content;
  syncz: Content;
  configz: Content;
  endpointz: Content;
  adsz: Content;
  /** proxyID (`pod.ns`) → istiod's /debug/config_dump for it. */
  configDumps?: Record<string, Content>;
  hang?: string[];
  /** Answer every debug endpoint with HTML or garbage (status 200) instead of JSON. */
  garble?: Garble;
}

/** istiod's debug API on its monitoring port (15014). */
export function startIstiodDebug(files: IstiodFiles): Promise<Backend> {
  const read = load;
  return serve((_method, url) => {
    if ((files.hang ?? []).includes(url.pathname)) return 'hang';
    if (files.garble) return garbled(files.garble);
    const file = (
      ({ '/debug/registryz': files.registryz, '/debug/syncz': files.syncz, '/debug/configz': files.configz,
        '/debug/endpointz': files.endpointz, '/debug/endpointShardz': files.endpointz, '/debug/adsz': files.adsz }) as Record<string, Content>
    )[url.pathname] as Content | undefined;
    if (file) return { status: 200, body: read(file) };
    if (url.pathname === '/debug/config_dump') {
      const proxy = url.searchParams.get('proxyID') ?? '';
      const f = files.configDumps?.[proxy];
      return f
        ? { status: 200, body: read(f) }
        : { status: 404, body: 'Proxy not connected to this Pilot instance. It may be connected to another instance.\n', type: 'text/plain' };
    }
    return { status: 404, body: '404 page not found\n', type: 'text/plain' };
  });
}
