import { isIP } from 'node:net';
import type { Resource } from '../../resources/index.js';
import type { Analyzer, Context } from '../analyzer.js';
import { K, strMap } from '../snapshot.js';

type Validate = (v: string) => string | undefined;

interface AnnotationDef {
  resources: string[];
  deprecated?: boolean;
  /** istio.io/api's featureStatus; Alpha unless given (Go's zero value, as in the generated table). */
  status?: 'Beta' | 'Stable';
  validate?: Validate;
}

const QUANTITY = /^[+-]?(\d+|\d+\.\d*|\.\d+)([KMGTPE]i|[kMGTPEmunp]|[eE][+-]?\d+)?$/;
const quantity: Validate = (v) => (QUANTITY.test(v.trim()) ? undefined : `${JSON.stringify(v)} is not a valid resource quantity`);
const bool: Validate = (v) => (/^(true|false)$/i.test(v.trim()) ? undefined : `${JSON.stringify(v)} is not a boolean (true or false)`);
const uint32: Validate = (v) => (/^\d+$/.test(v.trim()) && Number(v) <= 4294967295 ? undefined : `${JSON.stringify(v)} is not a non-negative integer`);
const statusPort: Validate = (v) => (/^\d+$/.test(v.trim()) && Number(v) <= 65535 ? undefined : `${JSON.stringify(v)} is not a valid port (0-65535)`);
const oneOf = (...allowed: string[]): Validate => (v) => (allowed.includes(v.trim()) ? undefined : `${JSON.stringify(v)} must be one of ${allowed.join(', ')}`);

function portList(allowStar: boolean): Validate {
  return (v) => {
    if (v.trim() === '' || (allowStar && v.trim() === '*')) return undefined;
    for (const p of v.split(',').map((s) => s.trim())) {
      if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) return `${JSON.stringify(p)} is not a valid port (1-65535)`;
    }
    return undefined;
  };
}

function cidrList(allowStar: boolean): Validate {
  return (v) => {
    if (v.trim() === '' || (allowStar && v.trim() === '*')) return undefined;
    for (const c of v.split(',').map((s) => s.trim())) {
      const [ip, bits, extra] = c.split('/');
      const family = isIP(ip ?? '');
      const max = family === 6 ? 128 : 32;
      if (!family || extra !== undefined || bits === undefined || !/^\d+$/.test(bits) || Number(bits) > max) return `${JSON.stringify(c)} is not a valid CIDR range`;
    }
    return undefined;
  };
}

const POD = ['Pod'];
const SVC = ['Service'];

/**
 * Istio's resource annotations (istio.io/api's annotation package, AllResourceAnnotations): where each
 * may go, which are deprecated, which are past the alpha phase. An `*.istio.io` annotation missing here
 * is reported as unknown (IST0108), as istioctl does.
 */
const ANNOTATIONS: Record<string, AnnotationDef> = {
  'sidecar.istio.io/inject': { resources: POD, deprecated: true, status: 'Beta' },
  'sidecar.istio.io/status': { resources: POD },
  'sidecar.istio.io/rewriteAppHTTPProbers': { resources: POD, validate: bool },
  'sidecar.istio.io/controlPlaneAuthPolicy': { resources: POD, deprecated: true },
  'sidecar.istio.io/discoveryAddress': { resources: POD, deprecated: true },
  'sidecar.istio.io/proxyImage': { resources: POD },
  'sidecar.istio.io/proxyImageType': { resources: POD },
  'sidecar.istio.io/proxyCPU': { resources: POD, validate: quantity },
  'sidecar.istio.io/proxyCPULimit': { resources: POD, validate: quantity },
  'sidecar.istio.io/proxyMemory': { resources: POD, validate: quantity },
  'sidecar.istio.io/proxyMemoryLimit': { resources: POD, validate: quantity },
  'sidecar.istio.io/interceptionMode': { resources: POD, validate: oneOf('REDIRECT', 'TPROXY', 'NONE') },
  'sidecar.istio.io/bootstrapOverride': { resources: POD },
  'sidecar.istio.io/statsInclusionPrefixes': { resources: POD, deprecated: true },
  'sidecar.istio.io/statsInclusionSuffixes': { resources: POD, deprecated: true },
  'sidecar.istio.io/statsInclusionRegexps': { resources: POD, deprecated: true },
  'sidecar.istio.io/statsHistogramBuckets': { resources: POD },
  'sidecar.istio.io/statsFlushInterval': { resources: POD },
  'sidecar.istio.io/statsCompression': { resources: POD },
  'sidecar.istio.io/userVolume': { resources: POD },
  'sidecar.istio.io/userVolumeMount': { resources: POD },
  'sidecar.istio.io/enableCoreDump': { resources: POD, validate: bool },
  'sidecar.istio.io/logLevel': { resources: POD, validate: oneOf('trace', 'debug', 'info', 'warning', 'warn', 'error', 'critical', 'off') },
  'sidecar.istio.io/componentLogLevel': { resources: POD },
  'sidecar.istio.io/agentLogLevel': { resources: POD },
  'sidecar.istio.io/extraStatTags': { resources: POD, deprecated: true },
  'sidecar.istio.io/nativeSidecar': { resources: POD, validate: bool },
  'status.sidecar.istio.io/port': { resources: POD, validate: statusPort },
  'readiness.status.sidecar.istio.io/initialDelaySeconds': { resources: POD, validate: uint32 },
  'readiness.status.sidecar.istio.io/periodSeconds': { resources: POD, validate: uint32 },
  'readiness.status.sidecar.istio.io/failureThreshold': { resources: POD, validate: uint32 },
  'readiness.status.sidecar.istio.io/applicationPorts': { resources: POD, validate: portList(true) },
  'traffic.sidecar.istio.io/includeOutboundIPRanges': { resources: POD, validate: cidrList(true) },
  'traffic.sidecar.istio.io/excludeOutboundIPRanges': { resources: POD, validate: cidrList(false) },
  'traffic.sidecar.istio.io/includeInboundPorts': { resources: POD, validate: portList(true) },
  'traffic.sidecar.istio.io/excludeInboundPorts': { resources: POD, validate: portList(false) },
  'traffic.sidecar.istio.io/includeOutboundPorts': { resources: POD, validate: portList(false) },
  'traffic.sidecar.istio.io/excludeOutboundPorts': { resources: POD, validate: portList(false) },
  'traffic.sidecar.istio.io/kubevirtInterfaces': { resources: POD },
  'traffic.sidecar.istio.io/excludeInterfaces': { resources: POD },
  'proxy.istio.io/config': { resources: POD, status: 'Beta' },
  'proxy.istio.io/overrides': { resources: POD },
  'prometheus.istio.io/merge-metrics': { resources: POD, validate: bool },
  'inject.istio.io/templates': { resources: POD },
  'istio.io/rev': { resources: POD },
  'ambient.istio.io/redirection': { resources: POD, status: 'Beta' },
  'ambient.istio.io/bypass-inbound-capture': { resources: POD },
  'ambient.istio.io/dns-capture': { resources: POD },
  'ambient.istio.io/waypoint-inbound-binding': { resources: ['GatewayClass', 'Gateway'] },
  'alpha.istio.io/identity': { resources: POD, deprecated: true },
  'networking.istio.io/exportTo': { resources: SVC },
  'networking.istio.io/traffic-distribution': { resources: ['Service', 'ServiceEntry'] },
  'networking.istio.io/service-type': { resources: ['Gateway'] },
  'traffic.istio.io/nodeSelector': { resources: SVC, status: 'Stable' },
  'alpha.istio.io/kubernetes-serviceaccounts': { resources: SVC, deprecated: true },
  'alpha.istio.io/canonical-serviceaccounts': { resources: SVC, deprecated: true },
  'kubernetes.io/ingress.class': { resources: ['Ingress'], status: 'Stable' },
  'galley.istio.io/analyze-suppress': { resources: ['Any'] },
  'gateway.istio.io/controller-version': { resources: ['Any'] },
  'gateway.istio.io/name-override': { resources: ['Gateway'] },
  'gateway.istio.io/service-account': { resources: ['Gateway'] },
  'install.operator.istio.io/chart-owner': { resources: ['Any'] },
  'install.operator.istio.io/owner-generation': { resources: ['Any'] },
  'install.operator.istio.io/version': { resources: ['Any'] },
  'topology.istio.io/controlPlaneClusters': { resources: ['Namespace'] },
  'istio.io/dry-run': { resources: ['AuthorizationPolicy'] },
  'istio.io/autoRegistrationGroup': { resources: ['WorkloadEntry'] },
  'istio.io/workloadController': { resources: ['WorkloadEntry'] },
  'istio.io/connectedAt': { resources: ['WorkloadEntry'] },
  'istio.io/disconnectedAt': { resources: ['WorkloadEntry'] },
};

const DEPRECATION_EXTRA: Record<string, string> = {
  'sidecar.istio.io/inject': ' in favor of the "sidecar.istio.io/inject" label',
};

function isIstioAnnotation(name: string): boolean {
  if (name === 'kubernetes.io/ingress.class') return true;
  const slash = name.indexOf('/');
  return (slash < 0 ? name : name.slice(0, slash)).endsWith('istio.io');
}

function check(ctx: Context, r: Resource, kind: string, meta: Record<string, unknown> = r.metadata, base: (string | number)[] = ['metadata']): void {
  const annotations = strMap(meta.annotations);
  // for-in rather than Object.entries: most annotations are not Istio's, and need no pair allocated
  for (const name in annotations) {
    if (!isIstioAnnotation(name)) continue;
    const value = annotations[name];
    const at = [...base, 'annotations', name];
    const def = ANNOTATIONS[name];
    if (!def) {
      ctx.report(r, 'IST0108', [name], at);
      continue;
    }
    if (def.deprecated) {
      const hasLabel = name === 'sidecar.istio.io/inject' && 'sidecar.istio.io/inject' in strMap(meta.labels);
      if (!hasLabel) ctx.report(r, 'IST0135', [name, DEPRECATION_EXTRA[name] ?? ''], at);
    }
    if (def.resources.includes('Any')) continue;
    if (!def.resources.includes(kind)) {
      ctx.report(r, 'IST0107', [name, def.resources.join(', ')], at);
      continue;
    }
    const problem = def.validate?.(value);
    if (problem) ctx.report(r, 'IST0125', [name, problem], at);
  }
}

/** The resources whose annotations istioctl checks, and (a meshctl addition) the pod templates of workloads. */
function forEachAnnotated(ctx: Context, check: (r: Resource, kind: string, meta?: Record<string, unknown>, base?: (string | number)[]) => void): void {
  const snap = ctx.snapshot;
  for (const r of snap.of(K.Namespace)) check(r, 'Namespace');
  for (const r of snap.of(K.Service)) check(r, 'Service');
  for (const r of snap.of(K.Pod)) check(r, 'Pod');
  for (const r of snap.of(K.Deployment)) check(r, 'Deployment');
  // pod templates are where CI manifests carry pod annotations
  for (const w of snap.workloads()) {
    if (w.resource.kind === 'Pod' || w.resource.kind === 'WorkloadEntry') continue;
    const base = w.resource.kind === 'CronJob' ? ['spec', 'jobTemplate', 'spec', 'template', 'metadata'] : ['spec', 'template', 'metadata'];
    check(w.resource, 'Pod', { annotations: w.annotations, labels: w.labels }, base);
  }
}

export const annotationsAnalyzer: Analyzer = {
  name: 'annotations.K8sAnalyzer',
  description: 'Checks for misplaced and invalid Istio annotations in Kubernetes resources',
  codes: ['IST0107', 'IST0108', 'IST0125', 'IST0135'],
  analyze(ctx: Context) {
    forEachAnnotated(ctx, (r, kind, meta, base) => check(ctx, r, kind, meta, base));
  },
};

/**
 * istioctl's maturity.AlphaAnalyzer. istioctl leaves it out of a default run ("too much noise for
 * users, with annotations that are set by default"), and so does meshctl: `--analyzer
 * annotations.AlphaAnalyzer` runs it.
 */
export const alphaAnnotationsAnalyzer: Analyzer = {
  name: 'annotations.AlphaAnalyzer',
  description: 'Checks for alpha Istio annotations in Kubernetes resources',
  codes: ['IST0136'],
  optIn: true,
  analyze(ctx: Context) {
    forEachAnnotated(ctx, (r, _kind, meta = r.metadata, base = ['metadata']) => {
      const annotations = strMap(meta.annotations);
      for (const name in annotations) {
        if (!isIstioAnnotation(name)) continue;
        const def = ANNOTATIONS[name];
        // sidecar.istio.io/status is written by the injector on every injected pod
        if (!def || def.status || name === 'sidecar.istio.io/status') continue;
        ctx.report(r, 'IST0136', [name], [...base, 'annotations', name]);
      }
    });
  },
};
