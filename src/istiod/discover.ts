import { DamagedBundleError, MeshctlError, describeError } from '../errors.js';
import { fanout, stderrProgress } from '../kube/fanout.js';
import { type PodSourceArg, asCluster, listPods, podReady } from '../kube/pods.js';

export const ISTIOD_DEBUG_PORT = 15014;

export interface IstiodPod {
  name: string;
  namespace: string;
}

/**
 * Running istiod pods (`app=istiod`, and `istio.io/rev=<rev>` with --revision) in the Istio namespace,
 * of the live cluster (a `Kube`) or of any ClusterSource (a bundle).
 */
export async function findIstiods(source: PodSourceArg): Promise<IstiodPod[]> {
  const kube = asCluster(source);
  const selector = kube.revision ? `app=istiod,istio.io/rev=${kube.revision}` : 'app=istiod';
  const pods = await listPods(kube, kube.istioNamespace, selector);
  const ready = pods.filter(podReady).map((p) => ({ name: p.metadata!.name!, namespace: kube.istioNamespace }));
  if (ready.length === 0) {
    const seen = pods.length ? ` (${pods.length} pod${pods.length === 1 ? '' : 's'} matched, none running and ready)` : '';
    throw new MeshctlError(
      `no running istiod in namespace ${kube.istioNamespace} with label ${selector}${seen}; check -i/--istioNamespace and --revision`,
    );
  }
  return ready.sort((a, b) => a.name.localeCompare(b.name));
}

export interface IstiodAnswer {
  istiod: string;
  text: string;
}

export interface FanoutResult {
  answers: IstiodAnswer[];
  /** Replicas that did not answer, with why (named in a warning). */
  failures: { istiod: string; reason: string }[];
}

/**
 * Asks every istiod replica for `path` on its debug port, a few at a time. One replica down is a
 * warning; all of them down is an error naming each.
 */
export async function askAllIstiods(source: PodSourceArg, path: string, istiods?: IstiodPod[]): Promise<FanoutResult> {
  const cluster = asCluster(source);
  const pods = istiods ?? (await findIstiods(cluster));
  const results = await fanout(
    pods,
    async (pod) => {
      const r = await cluster.podGet(pod, ISTIOD_DEBUG_PORT, path);
      const text = r.body.toString('utf8');
      if (r.status !== 200) throw new MeshctlError(`answered ${r.status} to ${path}${text.trim() ? `: ${text.trim().split('\n')[0]}` : ''}`);
      return text;
    },
    { limit: 4, onProgress: stderrProgress(`asking istiod ${path}`) },
  );
  const answers: IstiodAnswer[] = [];
  const failures: FanoutResult['failures'] = [];
  results.forEach((r, i) => {
    // a damaged bundle is not a replica that did not answer
    if (!r.ok && r.error instanceof DamagedBundleError) throw r.error;
    if (r.ok) answers.push({ istiod: pods[i].name, text: r.value });
    else failures.push({ istiod: pods[i].name, reason: describeError(r.error) });
  });
  if (answers.length === 0) {
    throw new MeshctlError(`no istiod answered ${path}: ${failures.map((f) => `${f.istiod}: ${f.reason}`).join('; ')}`);
  }
  return { answers, failures };
}

/** The warning line for replicas that did not answer. */
export function warnFailures(failures: FanoutResult['failures'], stream: NodeJS.WritableStream = process.stderr): void {
  for (const f of failures) stream.write(`warning: istiod ${f.istiod} did not answer, its data is missing: ${f.reason}\n`);
}
