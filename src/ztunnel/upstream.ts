import { joinHostPort, workloadIps, workloadStatus } from './model.js';
import type { ZtunnelModel } from './model.js';
import type { ZtunnelService, ZtunnelWorkload } from './types.js';

/**
 * ztunnel's outbound choices (istio/ztunnel src/state.rs): which workload address it dials, and which of a
 * service's endpoints it may send to (health, network, routing preferences). Shared by the ambient trace.
 */

/** One destination ztunnel may dial: the workload, its address, the target port (null: a named port). */
export interface Upstream {
  workload: ZtunnelWorkload;
  ip: string;
  port: number | null;
  status: string;
  label: string;
}

const podLabel = (w: ZtunnelWorkload) => `${w.name}.${w.namespace}`;

/** ztunnel's pick of the address family: the target's family first (pick_workload_destination). */
export function addressFor(w: ZtunnelWorkload, like: string): string | undefined {
  const ips = workloadIps(w);
  const v6 = like.includes(':');
  return ips.find((ip) => ip.includes(':') === v6) ?? ips[0];
}

/** A service's endpoints as ztunnel load-balances them (state.rs find_upstream_from_service / load_balance). */
export function serviceUpstreams(model: ZtunnelModel, svc: ZtunnelService, svcPort: number, src: ZtunnelWorkload | undefined, like: string): { cands: Upstream[]; dropped: { name: string; reason: string }[]; notes: string[] } {
  const dropped: { name: string; reason: string }[] = [];
  const notes: string[] = [];
  const allowAll = svc.loadBalancer?.healthPolicy === 'AllowAll';
  let cands: (Upstream & { rank: number })[] = [];
  const prefs = svc.loadBalancer?.routingPreferences ?? [];
  const mode = svc.loadBalancer?.mode ?? 'Standard';
  for (const ep of model.endpointsOf(svc)) {
    const name = ep.workload ? podLabel(ep.workload) : ep.uid;
    if (!ep.workload) {
      dropped.push({ name, reason: 'the ztunnel has no workload with this UID' });
      continue;
    }
    const status = ep.status !== 'Healthy' ? ep.status : workloadStatus(ep.workload);
    if (status !== 'Healthy' && !allowAll) {
      dropped.push({ name, reason: `${status}: ztunnel sends only to healthy endpoints (healthPolicy OnlyHealthy)` });
      continue;
    }
    if ((ep.workload.network ?? '') !== (src?.network ?? '')) {
      dropped.push({ name, reason: `on network ${ep.workload.network}: reached through that network's gateway, which this trace does not follow` });
      continue;
    }
    const ip = addressFor(ep.workload, like);
    if (!ip) {
      dropped.push({ name, reason: ep.workload.hostname ? `no address: ztunnel resolves ${ep.workload.hostname} by DNS, unknown offline` : 'no address' });
      continue;
    }
    const mapped = ep.ports[String(svcPort)] ?? svc.ports?.[String(svcPort)];
    const port = mapped === undefined ? null : mapped === 0 ? null : mapped;
    let rank = 0;
    for (const p of prefs) {
      const same =
        p === 'Network' ? (ep.workload.network ?? '') === (src?.network ?? '')
        : p === 'Region' ? ep.workload.locality?.region === src?.locality?.region
        : p === 'Zone' ? ep.workload.locality?.region === src?.locality?.region && ep.workload.locality?.zone === src?.locality?.zone
        : p === 'Subzone' ? ep.workload.locality?.subzone === src?.locality?.subzone && ep.workload.locality?.zone === src?.locality?.zone
        : p === 'Node' ? ep.workload.node === src?.node
        : p === 'Cluster' ? ep.workload.clusterId === src?.clusterId
        : false;
      if (!same) break;
      rank++;
    }
    cands.push({ workload: ep.workload, ip, port, status, label: `${name} ${joinHostPort(ip, String(port ?? svcPort))}`, rank });
  }
  // ztunnel ranks endpoints by how many preferences match in order and keeps the best (Strict: all must)
  if (prefs.length && mode !== 'Passthrough') {
    const best = mode === 'Strict' ? prefs.length : Math.max(0, ...cands.map((c) => c.rank));
    for (const c of cands.filter((x) => x.rank < best)) dropped.push({ name: c.label, reason: `matches ${c.rank} of the routing preferences ${prefs.join(', ')}; ${mode === 'Strict' ? 'Strict mode needs all' : `${mode} prefers those matching ${best}`}` });
    cands = cands.filter((x) => x.rank >= best);
    notes.push(`load balancing ${mode} by ${prefs.join(', ')} from the client's ${prefs.map((p) => p.toLowerCase()).join('/')}`);
  }
  return { cands, dropped, notes };
}


/** The node a ztunnel dump says it runs on (config.localNode). */
export function localNode(model: ZtunnelModel): string | undefined {
  const cfg = (model.parsed.raw as { config?: { localNode?: unknown } }).config;
  return typeof cfg?.localNode === 'string' ? cfg.localNode : undefined;
}

