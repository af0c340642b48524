import type { ZtunnelModel } from '../ztunnel/index.js';
import type { ZtunnelWorkloadView } from './pod.js';

/**
 * What a ztunnel's dump says about one pod (its workload entry, and the waypoints of the pod and of its
 * services as istioctl prints them), for describe; `source` names the ztunnel or the saved dump.
 */
export function ztunnelViewOf(model: ZtunnelModel, name: string, namespace: string, source: string): ZtunnelWorkloadView {
  const view = model.podView(name, namespace);
  if (!view) return { source, known: false };
  return {
    source,
    known: true,
    protocol: view.protocol,
    waypoint: model.waypointDisplayName(view.workload.waypoint),
    services: view.services.map((s) => ({ service: `${s.service.name}.${s.service.namespace}`, waypoint: model.waypointDisplayName(s.service.waypoint) })),
  };
}
