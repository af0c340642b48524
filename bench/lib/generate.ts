import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { clustersJson, registryz } from './admin.js';
import { configDump, httpPorts, subsetsOf } from './dump.js';
import { writeJsonFile } from './json-stream.js';
import type { Mesh } from './mesh.js';
import { buildMesh } from './mesh.js';
import { writeResources } from './resources.js';

/** Bump when the generated shapes change, so the bench runner regenerates stale outputs. */
export const GENERATOR_VERSION = 3;

export interface GenerateOptions {
  services: number;
  out: string;
  seed?: number;
  /** skip the YAML repository (the large dumps do not need it) */
  resources?: boolean;
}

export interface GenerateSummary {
  generatorVersion: number;
  services: number;
  seed: number;
  namespaces: number;
  counts: { clusters: number; endpoints: number; listeners: number; routeConfigs: number; virtualHosts: number; resources: number; resourceFiles: number };
  bytes: { configDump: number; clusters: number; registryz: number; resources: number };
  files: { configDump: string; clusters: string; registryz: string; resources: string | null };
  proxy: string;
  /** requests for `meshctl trace`: a service late in the dump, so linear scans show */
  trace: { url: string; headers: Record<string, string>; cluster: string }[];
}

export function generate(options: GenerateOptions): GenerateSummary {
  const seed = options.seed ?? 1;
  const mesh = buildMesh(options.services, seed);
  mkdirSync(options.out, { recursive: true });
  const files = {
    configDump: path.join(options.out, 'config_dump.json'),
    clusters: path.join(options.out, 'clusters.json'),
    registryz: path.join(options.out, 'registryz.json'),
    resources: options.resources === false ? null : path.join(options.out, 'resources'),
  };
  const bytes = {
    configDump: writeJsonFile(files.configDump, configDump(mesh)),
    clusters: writeJsonFile(files.clusters, clustersJson(mesh)),
    registryz: writeJsonFile(files.registryz, registryz(mesh)),
    resources: 0,
  };
  let resources = 0;
  let resourceFiles = 0;
  if (files.resources) {
    rmSync(files.resources, { recursive: true, force: true });
    const r = writeResources(mesh, files.resources);
    resources = r.resources;
    resourceFiles = r.files;
    bytes.resources = r.bytes;
  }
  const summary: GenerateSummary = {
    generatorVersion: GENERATOR_VERSION,
    services: options.services,
    seed,
    namespaces: mesh.namespaces.length,
    counts: { ...counts(mesh), resources, resourceFiles },
    bytes,
    files,
    proxy: `${mesh.proxy.pod.name}.${mesh.proxy.service.namespace}`,
    trace: traceRequests(mesh),
  };
  writeFileSync(path.join(options.out, 'meta.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

function counts(mesh: Mesh) {
  // dynamic clusters: BlackHole, InboundPassthrough, Passthrough and one inbound cluster per own port
  let clusters = 3 + mesh.proxy.service.ports.length;
  let endpoints = 0;
  let listeners = 2; // virtualOutbound, virtualInbound
  let virtualHosts = 0;
  for (const s of mesh.services) {
    for (const p of s.ports) {
      clusters += subsetsOf(s).length;
      // each pod once in the default cluster, and once more in its subset's
      endpoints += s.destinationRule ? s.pods.length * 2 : s.pods.length;
      if (p.protocol === 'TCP') listeners++;
    }
  }
  const ports = httpPorts(mesh);
  listeners += ports.size;
  for (const list of ports.values()) virtualHosts += list.length + 1;
  return { clusters, endpoints, listeners, routeConfigs: ports.size, virtualHosts };
}

function traceRequests(mesh: Mesh) {
  const late = [...mesh.services].reverse();
  const out: GenerateSummary['trace'] = [];
  const routed = late.find((s) => s.ports[0].protocol === 'HTTP' && s.routes?.some((r) => r.destinations.length > 1));
  const plain = late.find((s) => !s.routes && s.ports[0].protocol === 'HTTP');
  for (const s of [routed, plain]) {
    if (!s) continue;
    const port = s.ports[0];
    const route = s.routes?.find((r) => r.prefix === '/api/') ?? null;
    const subset = route ? route.destinations[0].subset : '';
    out.push({
      url: `http://${s.fqdn}:${port.port}${route ? '/api/orders/42' : '/'}`,
      headers: {},
      cluster: `outbound|${port.port}|${subset}|${s.fqdn}`,
    });
  }
  return out;
}
