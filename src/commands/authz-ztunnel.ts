import { isIP } from 'node:net';
import type { KubeOptions } from '../kube/options.js';
import { byteOrder } from '../authz/names.js';
import { MeshctlError, UsageError } from '../errors.js';
import { renderData } from '../output/format.js';
import { renderTable } from '../output/table.js';
import { writeStdout } from '../output/write.js';
import type { EnvoyAdminSource } from '../source/envoy-admin.js';
import { ztunnelAuthz } from '../trace/ztunnel-authz.js';
import {
  orderedPolicies,
  policyWords,
  workloadIdentity,
  workloadIps,
  ZtunnelModel,
  type ZtunnelPolicy,
  type ZtunnelWorkload,
} from '../ztunnel/index.js';
import type { AuthzCheckOptions } from './authz.js';
import { renderVerdict } from './authz.js';
import { sourceIdentity } from './identity.js';

/**
 * `authz check --ztunnel` (or -f with a ztunnel dump): the L4 policies ztunnel enforces, as istioctl's
 * `x authz check` table (ACTION, AuthorizationPolicy as name.namespace, RULES), for one workload (the pod
 * given: the policies of its namespace, the global ones and those naming it) or for the whole ztunnel;
 * with request flags, ztunnel's decision for a connection to that workload (src/ztunnel/rbac.ts).
 */

export interface ZtunnelPolicyRow {
  /** ALLOW or DENY; an action this meshctl does not know, upper-cased as written (never shown as ALLOW) */
  action: string;
  /** `name.namespace`, as istioctl prints AuthorizationPolicies */
  name: string;
  rules: number;
  authorizationPolicy: string;
  /** Global, Namespace or WorkloadSelector: why it applies */
  scope: string;
  mode: 'enforced' | 'dry-run';
  /** per rule, its clauses (all must hold), per clause its match groups (one must hold), in words */
  ruleDetails: string[][][];
}

export function ztunnelPolicyRows(policies: ZtunnelPolicy[]): ZtunnelPolicyRow[] {
  const rows = policies.map((p): ZtunnelPolicyRow => ({
    action: String(p.action).toUpperCase(),
    name: `${p.name}.${p.namespace}`,
    rules: Array.isArray(p.rules) ? p.rules.length : 0,
    authorizationPolicy: `${p.namespace}/${p.name}`,
    scope: String(p.scope),
    mode: p.dryRun === true ? 'dry-run' : 'enforced',
    ruleDetails: policyWords(p),
  }));
  const rank = (r: ZtunnelPolicyRow) => (r.mode === 'enforced' ? 0 : 3) + (r.action === 'DENY' ? 0 : r.action === 'ALLOW' ? 1 : 2);
  return rows.sort((a, b) => rank(a) - rank(b) || byteOrder(a.name, b.name));
}

/** A workload of the dump by `name.namespace`, `name` (with -n, or unique), or one of its IPs. */
export function findWorkload(model: ZtunnelModel, ref: string, namespace?: string): ZtunnelWorkload {
  if (isIP(ref)) {
    const w = model.workloadByAddress(ref);
    if (!w) throw new MeshctlError(`${model.source}: no workload has address ${ref}`);
    return w;
  }
  const dot = ref.indexOf('.');
  const [name, ns] = dot > 0 ? [ref.slice(0, dot), ref.slice(dot + 1)] : [ref, namespace];
  const byName = ns !== undefined ? model.workloadsByName(name, ns) : model.workloads.filter((w) => w.name === name);
  const pods = byName.filter((w) => w.uid?.includes('//Pod/'));
  const list = pods.length ? pods : byName;
  if (list.length === 1) return list[0];
  if (list.length > 1) throw new UsageError(`${model.source}: ${list.length} workloads are named ${name} (${list.map((w) => `${w.name}.${w.namespace}`).join(', ')}): give name.namespace`);
  throw new MeshctlError(`${model.source}: no workload ${ns !== undefined ? `${name}.${ns}` : name} in this ztunnel's view`);
}

/** The request flags that ask for a verdict. */
function wantsVerdict(o: AuthzCheckOptions): boolean {
  const id = o.identity ?? {};
  return Boolean(o.port !== undefined || o.src || o.plaintext || id.sourcePrincipal || id.sourceNamespace || id.sourceSa || id.from);
}

/** Source → ztunnel model → the table (and a verdict). */
export async function authzCheckZtunnel(o: AuthzCheckOptions, source: EnvoyAdminSource, model: ZtunnelModel, workloadRef?: string): Promise<void> {
  if (!model.has('policies')) throw new MeshctlError(`${model.source}: this ztunnel dump has no usable policies section`);
  for (const p of model.parsed.problems.filter((x) => x.section === 'policies' || x.section === 'workloads').slice(0, 5)) process.stderr.write(`warning: ${model.source}: skipped ${p.what} because ${p.reason}\n`);
  const workload = workloadRef !== undefined ? findWorkload(model, workloadRef, o.namespace) : undefined;
  if ((o.method !== undefined && o.method.toUpperCase() !== 'GET') || (o.path !== undefined && o.path !== '/') || o.host || o.header?.length || o.sni) {
    throw new UsageError('ztunnel decides L4 connections only: --method, --path, --host, -H and --sni do not apply (L7 rules need a waypoint)');
  }
  const applicable = workload ? model.policiesFor(workload) : null;
  const policies = applicable ? orderedPolicies(applicable) : model.policies;
  const rows = ztunnelPolicyRows(policies);
  const notes: string[] = (applicable?.missing ?? []).map((m) => `the workload names policy ${m}, which this ztunnel does not have (not pushed yet, or deleted): ztunnel skips it`);

  let verdict: { request: Record<string, unknown>; steps: unknown[]; authz: unknown } | null = null;
  if (wantsVerdict(o)) {
    if (!workload) throw new UsageError('a verdict needs the destination workload: give the pod (name.namespace or its IP) whose policies to decide');
    const identity = await sourceIdentity(o.identity ?? {}, o, o.src);
    const srcIp = o.src ?? identity.ip;
    const srcIdentity = o.plaintext ? null : identity.principal;
    if (o.plaintext && identity.principal) notes.push(`--plaintext: the connection carries no identity, so ${identity.principal} is not seen (only HBONE carries the peer's certificate)`);
    const dstIp = workloadIps(workload)[0] ?? '0.0.0.0';
    const { step, verdict: v } = ztunnelAuthz(applicable!, {
      srcIdentity,
      srcIp,
      dstIp,
      dstPort: o.port,
      hints: { identity: 'pass --source-principal, --source-namespace with --source-sa, or --from', ip: 'pass --src or --from', port: 'pass --port' },
    });
    const request = { tcp: true, port: o.port ?? '(unknown)', principal: srcIdentity ?? (o.plaintext ? 'a plaintext client (no identity)' : null), mtls: !o.plaintext, over: o.plaintext ? 'plain TCP' : 'HBONE', src: srcIp ?? null, workload: `${workload.name}.${workload.namespace}`, address: dstIp };
    verdict = { request, steps: [step], authz: v };
  }
  const out = { ztunnel: source.name, workload: workload ? { name: workload.name, namespace: workload.namespace, addresses: workloadIps(workload), identity: workloadIdentity(workload) } : null, policies: rows };
  if (o.output !== 'short') {
    const data = { ...out, ...(verdict ?? {}), ...(notes.length ? { notes } : {}) };
    writeStdout(renderData(JSON.parse(JSON.stringify(data)), o.output));
    return;
  }
  let text = workload ? `ztunnel L4 policies for ${workload.name}.${workload.namespace} (${source.name}):\n` : `ztunnel L4 policies (${source.name}):\n`;
  text += renderTable(['ACTION', 'AuthorizationPolicy', 'RULES'], rows.filter((r) => r.mode === 'enforced').map((r) => [r.action, r.name, String(r.rules)]), { padding: 3 });
  for (const r of rows.filter((x) => x.mode !== 'enforced')) text += `(${r.mode}) ${r.action} ${r.name} ${r.rules}\n`;
  if (!rows.length) text += workload ? 'no policy applies to this workload: ztunnel allows every connection to it\n' : '';
  for (const n of notes) text += `note: ${n}\n`;
  if (verdict) text += '\n' + renderVerdict(verdict as Parameters<typeof renderVerdict>[0]);
  writeStdout(text);
}

/** Live: the ztunnel serving the pod (or the pod if it is a ztunnel, or any ztunnel), and the workload to filter to. */
export async function openZtunnelForCheck(o: AuthzCheckOptions): Promise<{ source: EnvoyAdminSource; workload?: string }> {
  const { openZtunnelSource } = await import('./ztunnel-source.js');
  const istioNamespace = o.istioNamespace ?? 'istio-system';
  const { source, workload } = await openZtunnelSource({ ...(o as KubeOptions), istioNamespace, timeout: o.timeout ?? '30s' }, { pod: o.pod, proxyAdminPort: o.proxyAdminPort });
  return { source, workload: workload ? `${workload.name}.${workload.namespace}` : undefined };
}
