/**
 * A 1 GB bug-report bundle made on the fly for the reading benchmark: one real pod (`target.bench`, whose
 * config dump is the generated mesh's) in the middle of incompressible filler pods, written with the
 * product's own BundleWriter, so the file has the real layout (locator, one gzip member per member,
 * index last). Filler is random base64 compressed at level 1: fast to write, and as large on disk as raw.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FORMAT, FORMAT_VERSION } from '../../src/source/bundle/format.js';
import { BundleWriter } from '../../src/source/bundle/writer.js';

export const TARGET_POD = 'target';
export const TARGET_NS = 'bench';

/** `clustersFile`: the target pod's /clusters?format=json too (trace reads it, as bug-report collects it). */
export async function makeBigBundle(file: string, dumpFile: string, targetBytes: number, clustersFile?: string): Promise<{ bytes: number; members: number }> {
  const w = await BundleWriter.create(file);
  const pod = (name: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: TARGET_NS, labels: { app: name } },
    spec: { containers: [{ name: 'app' }, { name: 'istio-proxy' }] },
    status: { phase: 'Running', podIP: '10.1.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
  });
  // filler members compress to ~6 MiB each; the pod list names as many as may be needed
  const names = Array.from({ length: Math.ceil(targetBytes / (5 * 1024 * 1024)) + 2 }, (_, i) => `filler-${i}`);
  await w.add(`resources/${TARGET_NS}/pods.json`, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...names, TARGET_POD].map(pod) }));
  const calls: unknown[] = [];
  const add = async (name: string, data: Buffer, level: number, what = 'config_dump.json', get = '/config_dump?include_eds') => {
    const member = `pods/${TARGET_NS}/${name}/${what}`;
    await w.add(member, data, undefined, 0, level);
    calls.push({ call: 'get', pod: `${TARGET_NS}/${name}`, port: 15000, path: get, at: new Date().toISOString(), status: 200, member });
  };
  const addTarget = async () => {
    await add(TARGET_POD, readFileSync(dumpFile), 6);
    if (clustersFile) await add(TARGET_POD, readFileSync(clustersFile), 6, 'clusters.json', '/clusters?format=json');
  };
  // 6 MiB of random bytes as base64 (8 MiB): incompressible JSON-safe text
  const filler = () => Buffer.from(`{"filler":"${randomBytes(6 * 1024 * 1024).toString('base64')}"}`);
  // filler until the file reaches the target, the real pod half way
  let placed = false;
  for (let i = 0; i < names.length && w.bytes < targetBytes; i++) {
    if (!placed && w.bytes >= targetBytes / 2) {
      await addTarget();
      placed = true;
    }
    await add(names[i], filler(), 1);
  }
  if (!placed) await addTarget();
  await w.finish({
    format: FORMAT, version: FORMAT_VERSION, meshctl: 'bench', started: new Date().toISOString(), finished: new Date().toISOString(),
    cluster: { context: 'bench', server: 'https://127.0.0.1:6443', namespace: TARGET_NS, istioNamespace: 'istio-system' },
    request: { namespaces: [TARGET_NS], includeIstiod: false, includeZtunnel: false, timeout: '30m', requestTimeout: '30s', concurrency: 8 },
    complete: true,
    pods: { proxies: [...names, TARGET_POD].map((n) => `${TARGET_NS}/${n}`), istiods: [], ztunnels: [], skipped: [] },
    resources: [{ group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, scope: TARGET_NS, members: { [TARGET_NS]: `resources/${TARGET_NS}/pods.json` }, count: names.length + 1 }],
    calls: calls as never,
    failures: [],
  });
  return { bytes: w.bytes, members: Object.keys(w.members).length + 2 };
}
