import type { Resource } from '../../resources/index.js';
import type { Analyzer, Context } from '../analyzer.js';
import { K, obj, selectorMatches, str, strMap, type Workload } from '../snapshot.js';
import { hasTargetRef } from './telemetry.js';

/** The label Istio's gateway controller puts on the pods of a Kubernetes Gateway. */
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** Policies that can select workloads (and so, mistakenly, a Kubernetes Gateway's pods). */
const POLICY_KINDS = [K.AuthorizationPolicy, K.RequestAuthentication, K.Telemetry, K.WasmPlugin];

export const k8sGatewaySelectorAnalyzer: Analyzer = {
  name: 'k8sgateway.SelectorAnalyzer',
  description: 'Check that selectors are effective for Kubernetes gateway',
  codes: ['IST0166'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    // pods (and pod templates) of Kubernetes Gateways, by namespace; built only if some exist
    let gatewayPods: Map<string, Workload[]> | undefined;
    for (const kind of POLICY_KINDS) {
      for (const r of snap.of(kind)) {
        const spec = obj(r.object.spec);
        if (hasTargetRef(r) || spec.selector === undefined || spec.selector === null) continue;
        gatewayPods ??= podsByNamespace(snap.workloads());
        const selector = strMap(obj(spec.selector).matchLabels);
        for (const w of gatewayPods.get(r.namespace) ?? []) {
          if (selectorMatches(selector, w.labels)) ctx.report(r, 'IST0166', [w.labels[GATEWAY_NAME_LABEL]], ['spec', 'selector']);
        }
      }
    }
  },
};

function podsByNamespace(workloads: readonly Workload[]): Map<string, Workload[]> {
  const out = new Map<string, Workload[]>();
  for (const w of workloads) {
    if (w.resource.kind === 'WorkloadEntry' || !(GATEWAY_NAME_LABEL in w.labels)) continue;
    const list = out.get(w.namespace);
    if (list) list.push(w);
    else out.set(w.namespace, [w]);
  }
  return out;
}

/**
 * The lowest Gateway API bundle version (the CRD's `gateway.networking.k8s.io/bundle-version`
 * annotation) Istio processes, per CRD; older CRDs are ignored by istiod.
 */
const MINIMUM_CRD_VERSIONS: ReadonlyMap<string, Semver> = new Map([
  ['grpcroutes.gateway.networking.k8s.io', { major: 1, minor: 1, patch: 0 }],
  ['backendtlspolicies.gateway.networking.k8s.io', { major: 1, minor: 4, patch: 0 }],
  ['tlsroutes.gateway.networking.k8s.io', { major: 1, minor: 5, patch: 0 }],
]);

const BUNDLE_VERSION = 'gateway.networking.k8s.io/bundle-version';

interface Semver {
  major: number;
  minor: number;
  patch: number;
  prerelease?: string;
  metadata?: string;
}

/** A version as the Masterminds semver library reads it: an optional `v`, 1–3 numbers, pre-release, metadata. */
export function parseSemver(text: string): Semver | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), prerelease: m[4], metadata: m[5] };
}

/** The library's String(): normalised to three numbers, without the `v`. */
export function semverString(v: Semver): string {
  return `${v.major}.${v.minor}.${v.patch}${v.prerelease ? `-${v.prerelease}` : ''}${v.metadata ? `+${v.metadata}` : ''}`;
}

function below(v: Semver, min: Semver): boolean {
  if (v.major !== min.major) return v.major < min.major;
  if (v.minor !== min.minor) return v.minor < min.minor;
  return v.patch < min.patch;
}

export const crdVersionAnalyzer: Analyzer = {
  name: 'k8sgateway.CRDVersionAnalyzer',
  description: 'Checks Gateway API CRDs are at the minimum version required by this Istio version',
  codes: ['IST0176'],
  analyze(ctx: Context) {
    for (const crd of ctx.snapshot.of(K.CRD)) checkCrd(ctx, crd);
  },
};

function checkCrd(ctx: Context, crd: Resource): void {
  const minimum = MINIMUM_CRD_VERSIONS.get(crd.name);
  if (!minimum) return;
  const annotation = strMap(crd.metadata.annotations)[BUNDLE_VERSION];
  // no annotation: istiod logs that itself; an unparseable one is skipped as istioctl does
  const installed = annotation === undefined ? undefined : parseSemver(str(annotation));
  if (!installed) return;
  // a pre-release of the minimum (v1.5.0-rc.1) counts as that version
  if (!below(installed, minimum)) return;
  ctx.report(crd, 'IST0176', [crd.name, semverString(installed), semverString(minimum)], ['metadata', 'annotations', BUNDLE_VERSION]);
}
