import { groupKind, type Resource } from '../resources/index.js';
import { Context, fullName, type Analyzer, type Diagnostic } from './analyzer.js';
import { alphaAnnotationsAnalyzer, annotationsAnalyzer } from './analyzers/annotations.js';
import { conditionAnalyzer } from './analyzers/conditions.js';
import { subsetSelectPodAnalyzer } from './analyzers/destinationrule.js';
import { certificateAnalyzer, conflictingGatewayAnalyzer, ingressGatewayPortAnalyzer, secretAnalyzer } from './analyzers/gateway.js';
import { imageAnalyzer, imageAutoAnalyzer, injectionAnalyzer } from './analyzers/injection.js';
import { crdVersionAnalyzer, k8sGatewaySelectorAnalyzer } from './analyzers/k8sgateway.js';
import { multiServiceAnalyzer, portNameAnalyzer } from './analyzers/kubernetes.js';
import { caCertificateAnalyzer, deprecationAnalyzer, envoyPatchAnalyzer } from './analyzers/misc.js';
import { meshNetworksAnalyzer, multiClusterServiceAnalyzer } from './analyzers/multicluster.js';
import { schemaAnalyzers } from './analyzers/schema.js';
import { conflictingServiceEntryProtocolAnalyzer, protocolAddressesAnalyzer } from './analyzers/serviceentry.js';
import {
  telemetryDefaultSelectorAnalyzer, telemetryLightstepAnalyzer, telemetryProviderAnalyzer, telemetrySelectorAnalyzer,
} from './analyzers/telemetry.js';
import {
  conflictingMeshGatewayHostsAnalyzer, destinationHostAnalyzer, destinationRuleAnalyzer, gatewayAnalyzer, jwtClaimRouteAnalyzer,
} from './analyzers/virtualservice.js';
import { externalControlPlaneAnalyzer, webhookAnalyzer } from './analyzers/webhooks.js';
import { applicationUidAnalyzer, blockedCidrsAnalyzer } from './analyzers/workloadchecks.js';
import {
  authorizationPoliciesAnalyzer, sidecarEgressAnalyzer, sidecarSelectorAnalyzer,
} from './analyzers/workloads.js';
import { levelRank, type Level } from './messages.js';
import { prepareSchemas } from './schema.js';
import { CLUSTER_SCOPED, Snapshot, type SnapshotOptions } from './snapshot.js';

/** Every analyzer, sorted by name as `istioctl analyze -L` lists them. */
export const ANALYZERS: readonly Analyzer[] = [
  alphaAnnotationsAnalyzer,
  annotationsAnalyzer,
  applicationUidAnalyzer,
  authorizationPoliciesAnalyzer,
  blockedCidrsAnalyzer,
  conditionAnalyzer,
  multiServiceAnalyzer,
  deprecationAnalyzer,
  caCertificateAnalyzer,
  subsetSelectPodAnalyzer,
  envoyPatchAnalyzer,
  externalControlPlaneAnalyzer,
  certificateAnalyzer,
  conflictingGatewayAnalyzer,
  ingressGatewayPortAnalyzer,
  secretAnalyzer,
  injectionAnalyzer,
  imageAnalyzer,
  imageAutoAnalyzer,
  k8sGatewaySelectorAnalyzer,
  crdVersionAnalyzer,
  meshNetworksAnalyzer,
  portNameAnalyzer,
  conflictingServiceEntryProtocolAnalyzer,
  protocolAddressesAnalyzer,
  multiClusterServiceAnalyzer,
  sidecarEgressAnalyzer,
  sidecarSelectorAnalyzer,
  conflictingMeshGatewayHostsAnalyzer,
  destinationHostAnalyzer,
  destinationRuleAnalyzer,
  gatewayAnalyzer,
  jwtClaimRouteAnalyzer,
  telemetryProviderAnalyzer,
  telemetrySelectorAnalyzer,
  telemetryDefaultSelectorAnalyzer,
  telemetryLightstepAnalyzer,
  webhookAnalyzer,
  ...schemaAnalyzers,
].sort((a, b) => byName(a.name, b.name));

/**
 * Names older istioctl releases used for analyzers since merged into others, so `--analyzer` lines
 * written for them keep working: sidecar.DefaultSelectorAnalyzer's IST0111 is sidecar.SelectorAnalyzer's now.
 */
export const ANALYZER_ALIASES: ReadonlyMap<string, string> = new Map([['sidecar.DefaultSelectorAnalyzer', 'sidecar.SelectorAnalyzer']]);

/** The analyzers a run uses: the named ones (aliases resolved), else every one that runs by default. */
export function selectAnalyzers(names: readonly string[] | undefined): Analyzer[] {
  if (!names?.length) return ANALYZERS.filter((a) => !a.optIn);
  const wanted = new Set(names.map((n) => ANALYZER_ALIASES.get(n) ?? n));
  return ANALYZERS.filter((a) => wanted.has(a.name));
}

/**
 * The order localeCompare gives these names (case-insensitive first), without localeCompare: its
 * first call loads ICU's collator, ~10 ms of every analyze run.
 */
function byName(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface AnalyzeOptions extends SnapshotOptions {
  /** Analyzer names to run (all when empty). */
  analyzers?: readonly string[];
  /** Report only findings on resources in this namespace (cluster-scoped resources always count). */
  namespace?: string;
}

/** Gives namespaced resources that name no namespace the default one, as kubectl apply would. */
export function applyDefaultNamespace(resources: readonly Resource[], namespace: string): void {
  for (const r of resources) if (!r.namespace && !CLUSTER_SCOPED.has(groupKind(r))) r.namespace = namespace;
}

/** Runs the analyzers over the resources: findings sorted as istioctl sorts them, suppressions not yet applied. */
export async function analyzeResources(resources: readonly Resource[], options: AnalyzeOptions = {}): Promise<Diagnostic[]> {
  const selected = selectAnalyzers(options.analyzers);
  if (selected.some((a) => a.name.startsWith('schema.'))) await prepareSchemas(resources);
  const snapshot = new Snapshot(resources, options);
  for (const a of selected) if (a.prepare) await a.prepare(snapshot);
  const ctx = new Context(snapshot);
  for (const a of selected) a.analyze(ctx);
  let out = dedupe(ctx.diagnostics);
  if (options.namespace) out = out.filter((d) => !d.resource || namespaceOf(d.resource) === undefined || namespaceOf(d.resource) === options.namespace);
  return sortDiagnostics(out);
}

/** The namespace a finding is "in" for -n: a Namespace is in itself; other cluster-scoped objects in none. */
function namespaceOf(r: Resource): string | undefined {
  if (r.kind === 'Namespace' && !r.group) return r.name;
  return r.namespace || undefined;
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const key = `${d.type.code}|${d.resource ? resourceKey(d.resource) : ''}|${d.line ?? ''}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function resourceKey(r: Resource): string {
  return `${r.group}/${r.kind}/${fullName(r)}/${r.origin?.file ?? ''}`;
}

/** Errors first, then warnings, then info; within a level by code, then origin, then text. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => {
    if (a.type.level !== b.type.level) return levelRank(b.type.level) - levelRank(a.type.level);
    if (a.type.code !== b.type.code) return a.type.code < b.type.code ? -1 : 1;
    const oa = a.resource ? `${a.resource.kind} ${fullName(a.resource)}` : '';
    const ob = b.resource ? `${b.resource.kind} ${fullName(b.resource)}` : '';
    if (oa !== ob) return oa < ob ? -1 : 1;
    if ((a.line ?? 0) !== (b.line ?? 0)) return (a.line ?? 0) - (b.line ?? 0);
    return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
  });
}

export function atLeast(d: Diagnostic, level: Level): boolean {
  return levelRank(d.type.level) >= levelRank(level);
}
