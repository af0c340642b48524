import type { Labels, PeerAuthentication } from './objects.js';
import { byCreation, hasSelector, namespaceOf, originOf, selectorMatches } from './objects.js';

export type MtlsLevel = 'mesh' | 'namespace' | 'workload';

export interface AppliedPeerAuthentication {
  name: string;
  namespace: string;
  origin?: string;
  level: MtlsLevel;
  /** The mode it sets (UNSET when it sets none). */
  mode: string;
  /** False when an older policy at the same level wins. */
  effective: boolean;
}

export interface EffectiveMtls {
  /** STRICT, PERMISSIVE or DISABLE for the workload as a whole. */
  mode: string;
  /** Which level decided it (`default` when no policy sets a mode: Istio's PERMISSIVE). */
  decidedBy: MtlsLevel | 'default';
  /** Port-level modes (container ports), from the workload-level policy. */
  perPort: { port: number; mode: string }[];
  applied: AppliedPeerAuthentication[];
  warnings: string[];
}

const MODES = new Set(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']);

/**
 * Inbound mTLS for a workload, composed as istiod does: the oldest mesh-wide policy (root namespace, no selector),
 * overridden by the oldest namespace-wide one, overridden by the oldest one selecting the workload; UNSET
 * inherits. Port-level settings only count on a policy with a selector.
 */
export function effectiveMtls(all: PeerAuthentication[], workloadNs: string, labels: Labels, rootNs: string): EffectiveMtls {
  const warnings: string[] = [];
  const levelOf = (pa: PeerAuthentication): MtlsLevel | undefined => {
    const ns = namespaceOf(pa);
    const sel = pa.spec?.selector;
    if (!hasSelector(sel)) {
      if (ns === rootNs) return 'mesh';
      if (ns === workloadNs) return 'namespace';
      return undefined;
    }
    // Workload policies in the root namespace are ignored by istiod (only its mesh-wide policy counts there).
    if (ns === workloadNs && ns !== rootNs && selectorMatches(sel?.matchLabels, labels)) return 'workload';
    return undefined;
  };

  const relevant = all.filter((pa) => levelOf(pa) !== undefined).sort(byCreation);
  const winner: Partial<Record<MtlsLevel, PeerAuthentication>> = {};
  const applied: AppliedPeerAuthentication[] = [];
  for (const pa of relevant) {
    const level = levelOf(pa)!;
    const first = !winner[level];
    if (first) winner[level] = pa;
    const mode = modeOf(pa.spec?.mtls?.mode);
    if (pa.spec?.mtls?.mode && !MODES.has(pa.spec.mtls.mode)) {
      warnings.push(`PeerAuthentication ${pa.metadata?.name}.${namespaceOf(pa)}: unknown mTLS mode "${pa.spec.mtls.mode}"`);
    }
    const a: AppliedPeerAuthentication = { name: pa.metadata?.name ?? '', namespace: namespaceOf(pa), level, mode, effective: first };
    const origin = originOf(pa);
    if (origin) a.origin = origin;
    applied.push(a);
  }
  for (const level of ['mesh', 'namespace', 'workload'] as const) {
    const same = applied.filter((a) => a.level === level);
    if (same.length > 1) {
      warnings.push(
        `${same.length} ${level}-level PeerAuthentications apply (${same.map((a) => `${a.name}.${a.namespace}`).join(', ')}); only the oldest, ${same[0].name}.${same[0].namespace}, counts`,
      );
    }
  }

  let mode = 'PERMISSIVE';
  let decidedBy: EffectiveMtls['decidedBy'] = 'default';
  for (const level of ['mesh', 'namespace', 'workload'] as const) {
    const m = modeOf(winner[level]?.spec?.mtls?.mode);
    if (winner[level] && m !== 'UNSET') {
      mode = m;
      decidedBy = level;
    }
  }

  const perPort: EffectiveMtls['perPort'] = [];
  const wl = winner.workload;
  for (const [port, setting] of Object.entries(wl?.spec?.portLevelMtls ?? {})) {
    const m = modeOf(setting?.mode);
    perPort.push({ port: Number(port), mode: m === 'UNSET' ? mode : m });
  }
  perPort.sort((a, b) => a.port - b.port);
  for (const level of ['mesh', 'namespace'] as const) {
    const pa = winner[level];
    if (pa && Object.keys(pa.spec?.portLevelMtls ?? {}).length > 0) {
      warnings.push(`PeerAuthentication ${pa.metadata?.name}.${namespaceOf(pa)} sets portLevelMtls without a selector; Istio ignores it`);
    }
  }
  return { mode, decidedBy, perPort, applied, warnings };
}

function modeOf(mode: string | undefined): string {
  return mode && MODES.has(mode) ? mode : 'UNSET';
}

/** The mode for one container port: its port-level setting if any, else the workload's. */
export function mtlsForPort(m: EffectiveMtls, port: number): string {
  return m.perPort.find((p) => p.port === port)?.mode ?? m.mode;
}
