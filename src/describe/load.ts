import { promises as fs } from 'node:fs';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { MeshctlError } from '../errors.js';
import { readInput } from '../source/file.js';
import { parseDocuments } from '../source/parse.js';
import { emptyMeshObjects, setOrigin, type KubeObject, type MeshObjects } from './objects.js';

/** Which list of MeshObjects a kind goes to; other kinds are ignored (a directory of manifests holds many). */
const KIND_TO_LIST: Record<string, keyof MeshObjects> = {
  Pod: 'pods',
  Service: 'services',
  Endpoints: 'endpoints',
  Namespace: 'namespaces',
  DestinationRule: 'destinationRules',
  VirtualService: 'virtualServices',
  Gateway: 'gateways',
  PeerAuthentication: 'peerAuthentications',
  AuthorizationPolicy: 'authorizationPolicies',
  ConfigMap: 'configMaps',
};

/** Istio kinds that share a name with Gateway API kinds: only the networking.istio.io/security.istio.io ones count. */
function isIstioOrCore(obj: KubeObject): boolean {
  const group = (obj.apiVersion ?? '').split('/');
  if (group.length === 1) return true; // core v1
  return group[0].endsWith('istio.io');
}

/**
 * Loads every YAML/JSON document under `paths` (files or directories, recursively), keeping the kinds describe
 * uses and unwrapping `List`s as `kubectl get -o yaml` writes them. Errors name the file and line.
 */
export async function loadMeshObjects(paths: string[]): Promise<MeshObjects> {
  const out = emptyMeshObjects();
  for (const p of paths) {
    let stat;
    try {
      stat = await fs.stat(p);
    } catch {
      throw new MeshctlError(`${p}: no such file or directory`);
    }
    const files = stat.isDirectory()
      ? (await glob(['**/*.yaml', '**/*.yml', '**/*.json'], { cwd: p, absolute: false, dot: false })).sort().map((f) => path.join(p, f))
      : [p];
    if (stat.isDirectory() && files.length === 0) throw new MeshctlError(`${p}: no .yaml, .yml or .json files in the directory`);
    for (const file of files) {
      const input = await readInput(file);
      for (const doc of parseDocuments(input)) add(out, doc, file);
    }
  }
  return out;
}

function add(out: MeshObjects, doc: unknown, file: string): void {
  if (Array.isArray(doc)) {
    for (const item of doc) add(out, item, file);
    return;
  }
  if (doc === null || doc === undefined || typeof doc !== 'object') return;
  const obj = doc as KubeObject & { items?: unknown[] };
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    for (const item of obj.items) add(out, item, file);
    return;
  }
  if (typeof obj.kind !== 'string') return;
  const list = KIND_TO_LIST[obj.kind];
  if (!list || !isIstioOrCore(obj)) return;
  if (obj.metadata !== undefined && (typeof obj.metadata !== 'object' || obj.metadata === null)) {
    throw new MeshctlError(`${file}: ${obj.kind} has a metadata that is not a map`);
  }
  setOrigin(obj, file);
  (out[list] as KubeObject[]).push(obj);
}
