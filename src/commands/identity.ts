import type { KubeOptions } from '../kube/options.js';
import type { SourceIdentity } from '../authz/context.js';
import { addClaim, decodeJwt, IdentityError, parsePrincipal, principalOf } from '../authz/identity.js';
import type { Json } from '../match/string.js';
import { UsageError } from '../errors.js';

/** The request's source identity flags of `trace` and `authz check`, as the CLI parsed them. */
export interface IdentityFlags {
  sourcePrincipal?: string;
  sourceNamespace?: string;
  sourceSa?: string;
  trustDomain?: string;
  from?: string;
  jwt?: string;
  jwtClaim?: string[];
  extAuthz?: 'allow' | 'deny';
}

/** The source identity from the flags (and, with --from, the client pod in the cluster). */
export async function sourceIdentity(f: IdentityFlags, kube: Partial<KubeOptions> & { bundle?: string }, src?: string): Promise<SourceIdentity> {
  try {
    const id: SourceIdentity = {};
    const td = f.trustDomain ?? 'cluster.local';
    const given = [f.sourcePrincipal !== undefined, f.sourceNamespace !== undefined || f.sourceSa !== undefined, f.from !== undefined].filter(Boolean).length;
    if (given > 1) throw new UsageError('give one of --source-principal, --source-namespace/--source-sa or --from');
    if (f.sourcePrincipal !== undefined) id.principal = parsePrincipal(f.sourcePrincipal);
    if (f.sourceNamespace !== undefined || f.sourceSa !== undefined) {
      if (f.sourceNamespace === undefined || f.sourceSa === undefined) throw new UsageError('--source-namespace and --source-sa go together');
      id.principal = principalOf(f.sourceNamespace, f.sourceSa, td);
    }
    if (f.from !== undefined) {
      const { openCluster } = await import('../kube/open.js');
      const { resolvePod } = await import('../kube/pods.js');
      // the live cluster, or the --bundle: the client pod as it was at capture
      const k = await openCluster({ istioNamespace: 'istio-system', timeout: '30s', ...kube });
      let p;
      try {
        p = await resolvePod(k, f.from);
      } finally {
        k.close();
      }
      id.principal = principalOf(p.namespace, p.pod.spec?.serviceAccountName ?? 'default', td);
      const ip = p.pod.status?.podIP;
      if (ip && src === undefined) id.ip = ip;
      id.origin = `--from ${p.name}.${p.namespace}`;
    }
    if (f.jwt !== undefined && f.jwtClaim?.length) throw new UsageError('give --jwt or --jwt-claim, not both');
    if (f.jwt !== undefined) id.claims = decodeJwt(f.jwt);
    if (f.jwtClaim?.length) {
      const claims: Record<string, Json> = {};
      for (const c of f.jwtClaim) addClaim(claims, c);
      id.claims = claims;
    }
    if (f.extAuthz) id.extAuthz = f.extAuthz;
    return id;
  } catch (err) {
    if (err instanceof IdentityError) throw new UsageError(err.message);
    throw err;
  }
}
