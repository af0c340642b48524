import type { Resource } from '../../resources/index.js';
import { fullName, type Analyzer, type Context } from '../analyzer.js';
import { K, arr, obj, str } from '../snapshot.js';
import { isIstioControlPlane } from './kubernetes.js';

/** The UID the sidecar proxy runs as; iptables lets its traffic through uncaptured. */
const PROXY_UID = 1337;

function runsAsProxyUid(securityContext: unknown): boolean {
  return obj(securityContext).runAsUser === PROXY_UID;
}

/**
 * IST0144 for a pod spec at `base` inside `r`, once per resource as istioctl reports it, pointing at
 * the first offender: the pod's securityContext, else an application container's.
 */
function checkPodSpec(ctx: Context, r: Resource, spec: Record<string, unknown>, base: string[]): void {
  if (runsAsProxyUid(spec.securityContext)) {
    ctx.report(r, 'IST0144', [], [...base, 'securityContext', 'runAsUser']);
    return;
  }
  const containers = arr(spec.containers);
  for (let i = 0; i < containers.length; i++) {
    const c = obj(containers[i]);
    if (c.name === 'istio-proxy' || c.name === 'istio-operator') continue;
    if (runsAsProxyUid(c.securityContext)) {
      ctx.report(r, 'IST0144', [], [...base, 'containers', i, 'securityContext', 'runAsUser']);
      return;
    }
  }
}

export const applicationUidAnalyzer: Analyzer = {
  name: 'applicationUID.Analyzer',
  description: 'Checks invalid application UID',
  codes: ['IST0144'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    for (const pod of snap.of(K.Pod)) {
      if (!isIstioControlPlane(pod)) checkPodSpec(ctx, pod, obj(pod.object.spec), ['spec']);
    }
    for (const d of snap.of(K.Deployment)) {
      if (!isIstioControlPlane(d)) checkPodSpec(ctx, d, obj(obj(obj(d.object.spec).template).spec), ['spec', 'template', 'spec']);
    }
  },
};

/** istioctl names at most five RequestAuthentications, then counts the rest. */
function formatNames(names: readonly string[]): string {
  if (names.length <= 5) return names.join(', ');
  return `${names.slice(0, 5).join(', ')}, and ${names.length - 5} more`;
}

export const blockedCidrsAnalyzer: Analyzer = {
  name: 'authn.BlockedCIDRsAnalyzer',
  description: 'Checks that BLOCKED_CIDRS_IN_JWKS_URIS is configured on istiod when RequestAuthentication resources exist',
  codes: ['IST0175'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    const ras = snap.of(K.RequestAuthentication);
    if (ras.length === 0) return;
    let names: string[] | undefined;
    for (const d of snap.of(K.Deployment)) {
      if (d.metadata.labels?.app !== 'istiod') continue;
      const containers = arr(obj(obj(obj(d.object.spec).template).spec).containers);
      const set = containers.some((c) => arr(obj(c).env).some((e) => str(obj(e).name) === 'BLOCKED_CIDRS_IN_JWKS_URIS' && str(obj(e).value) !== ''));
      if (set) continue;
      names ??= ras.map(fullName).sort();
      ctx.report(d, 'IST0175', [names.length, formatNames(names)], ['metadata', 'name']);
    }
  },
};
