/** Builds small bundles by hand for the reader and hostile-input tests (no cluster needed). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { FORMAT, FORMAT_VERSION, type BundleIndex } from '../../src/source/bundle/format.js';
import { BundleWriter } from '../../src/source/bundle/writer.js';
import { fixture } from '../helpers.js';

export const POD_NAME = 'web-1';
export const POD_REF = `${POD_NAME}.shop`;

export function baseIndex(): Omit<BundleIndex, 'members'> {
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    meshctl: 'test',
    started: '2026-11-21T10:00:00Z',
    finished: '2026-11-21T10:00:05Z',
    cluster: { context: 'test', server: 'https://127.0.0.1:6443', namespace: 'shop', istioNamespace: 'istio-system' },
    request: { namespaces: ['shop'], includeIstiod: false, includeZtunnel: false, timeout: '30m', requestTimeout: '30s', concurrency: 8 },
    complete: true,
    pods: { proxies: [`shop/${POD_NAME}`], istiods: [], ztunnels: [], skipped: [] },
    resources: [
      { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, scope: 'shop', members: { shop: 'resources/shop/pods.json' }, count: 1 },
    ],
    calls: [{ call: 'get', pod: `shop/${POD_NAME}`, port: 15000, path: '/config_dump?include_eds', at: '2026-11-21T10:00:01Z', status: 200, member: `pods/shop/${POD_NAME}/config_dump.json` }],
    failures: [],
  };
}

export function podList(): string {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: POD_NAME, namespace: 'shop', labels: { app: 'web' } },
    spec: { containers: [{ name: 'web' }, { name: 'istio-proxy' }] },
    status: { phase: 'Running', podIP: '10.1.2.3', conditions: [{ type: 'Ready', status: 'True' }] },
  };
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod] });
}

/** A valid bundle of one pod (the Bookinfo productpage dump), plus `extra` members before the dump. */
export async function writeBundle(file: string, extra: [string, Buffer][] = []): Promise<void> {
  const w = await BundleWriter.create(file, new Date('2026-11-21T10:00:00Z'));
  await w.add('resources/shop/pods.json', podList());
  for (const [name, data] of extra) await w.add(name, data);
  await w.add(`pods/shop/${POD_NAME}/config_dump.json`, readFileSync(fixture('bookinfo', 'productpage-config_dump.json')));
  await w.finish(baseIndex());
}

export interface RawEntry {
  name: string;
  data?: Buffer;
  type?: 'file' | 'symlink' | 'link' | 'character-device' | 'directory';
  linkname?: string;
}

/** A tar (not gzipped) of `entries`, made with tar-stream as any tar tool would. */
export async function tarOf(entries: RawEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c) => chunks.push(c as Buffer));
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const header = { name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: 0o644 } as const;
    if (e.type && e.type !== 'file') p.entry({ ...header, size: 0 }, Buffer.alloc(0));
    else p.entry({ ...header, size: data.length }, data);
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A tar header claiming `size` bytes (tar tools refuse to make one this big without the data). */
export function hugeHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\u000000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

export function indexFor(members: Record<string, Buffer>, patch: Partial<BundleIndex> = {}): Buffer {
  const list: BundleIndex['members'] = {};
  for (const [name, data] of Object.entries(members)) list[name] = { size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  return Buffer.from(JSON.stringify({ ...baseIndex(), members: list, ...patch }));
}

export const gz = (b: Buffer) => gzipSync(b);
