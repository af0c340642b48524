import { DamagedBundleError, MeshctlError, UsageError, describeError } from '../errors.js';
import { compareDumps, renderComparison } from '../istiod/compare.js';
import { ISTIOD_DEBUG_PORT, findIstiods } from '../istiod/discover.js';
import { PROXY_STATUS_HEADERS, parseSyncz, proxyStatusRows, rowCells } from '../istiod/syncz.js';
import { DEFAULT_PROXY_ADMIN_PORT, adminSourceFor } from '../kube/admin-source.js';
import type { ClusterSource } from '../kube/cluster.js';
import { fanout } from '../kube/fanout.js';
import { type ClusterOptions, openCluster } from '../kube/open.js';
import { renderData } from '../output/format.js';
import { renderTable } from '../output/table.js';
import { type InputText, readInput } from '../source/file.js';
import { istiodAnswers } from './istiod.js';

export interface ProxyStatusOptions extends ClusterOptions {
  /** Without a pod: saved /debug/syncz answers (one per istiod). With a pod: the Envoy's saved /config_dump. */
  file?: string[];
  /** With a pod: istiod's saved /debug/config_dump?proxyID=… instead of asking the live istiods. */
  istiodFile?: string;
  output?: 'short' | 'json' | 'yaml';
  proxyAdminPort?: number;
}

export async function proxyStatus(pod: string | undefined, opts: ProxyStatusOptions): Promise<string> {
  if (pod !== undefined) return proxyDiff(pod, opts);
  if (opts.istiodFile) throw new UsageError('--istiod-file compares one proxy: name the pod too');
  const path = opts.namespace && !opts.file?.length ? `/debug/syncz?namespace=${encodeURIComponent(opts.namespace)}` : '/debug/syncz';
  const answers = await istiodAnswers(path, { ...opts, file: opts.file });
  let rows = proxyStatusRows(answers.map((a) => ({ istiod: a.istiod, statuses: parseSyncz({ name: a.name, text: a.text }) })));
  if (opts.namespace) rows = rows.filter((r) => r.name.endsWith(`.${opts.namespace}`));
  if (opts.output === 'json' || opts.output === 'yaml') return renderData(rows, opts.output);
  return renderTable(PROXY_STATUS_HEADERS, rows.map(rowCells));
}

/** What istiod last sent this proxy against what its Envoy holds, section by section. */
async function proxyDiff(podRef: string, opts: ProxyStatusOptions): Promise<string> {
  if ((opts.file?.length ?? 0) > 1) throw new UsageError('with a pod, -f takes one saved Envoy /config_dump');
  const envoyFile = opts.file?.[0];
  if (opts.bundle !== undefined && (envoyFile || opts.istiodFile)) throw new UsageError('give either --bundle or -f/--istiod-file, not both');
  let envoy: InputText;
  let proxyID: string;
  let cluster: ClusterSource | undefined;
  try {
    if (envoyFile) {
      envoy = await readInput(envoyFile);
      proxyID = podRef.includes('.') ? podRef : `${podRef}.${opts.namespace ?? 'default'}`;
    } else {
      cluster = await openCluster({ istioNamespace: 'istio-system', timeout: '30s', ...opts });
      const admin = await adminSourceFor(cluster, podRef, opts.proxyAdminPort ?? DEFAULT_PROXY_ADMIN_PORT);
      envoy = await admin.get('/config_dump');
      proxyID = admin.name;
    }
    const istiod = opts.istiodFile
      ? await readInput(opts.istiodFile)
      : await istiodConfigDump(proxyID, (cluster ??= await openCluster({ istioNamespace: 'istio-system', timeout: '30s', ...opts })));
    const result = compareDumps(istiod, envoy);
    if (opts.output === 'json' || opts.output === 'yaml') return renderData({ proxy: proxyID, sections: result }, opts.output);
    return renderComparison(result);
  } finally {
    cluster?.close();
  }
}

/** Only the istiod the proxy is connected to knows it: ask all, keep the one that answers 200. */
async function istiodConfigDump(proxyID: string, cluster: ClusterSource): Promise<InputText> {
  const istiods = await findIstiods(cluster);
  const path = `/debug/config_dump?proxyID=${encodeURIComponent(proxyID)}`;
  const results = await fanout(istiods, (pod) => cluster.podGet(pod, ISTIOD_DEBUG_PORT, path), { limit: 4 });
  const reasons: string[] = [];
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (!r.ok && r.error instanceof DamagedBundleError) throw r.error;
    if (r.ok && r.value.status === 200) return { name: `istiod ${istiods[i].name} ${path}`, text: r.value.body.toString('utf8') };
    reasons.push(`${istiods[i].name}: ${r.ok ? `${r.value.status} ${r.value.body.toString('utf8').trim().split('\n')[0]}` : describeError(r.error)}`);
  }
  throw new MeshctlError(`no istiod has proxy ${proxyID} connected (${reasons.join('; ')})`);
}
