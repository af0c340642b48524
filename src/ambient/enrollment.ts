import { AMBIENT_REDIRECTION, DATAPLANE_MODE, DATAPLANE_MODE_AMBIENT, GATEWAY_MANAGED, GATEWAY_NAME, MANAGED_BY_MESH_CONTROLLER, SIDECAR_STATUS } from './labels.js';
import type { AmbientNamespace, AmbientPod } from './types.js';
import { labelsOf, list, namespaceOf, nameOf, record } from './types.js';

/** Whether ztunnel carries a pod's traffic, and why. */
export interface AmbientEnrollment {
  /** true: enrolled in ambient; false: not; undefined: it depends on a Namespace that is not known. */
  enrolled: boolean | undefined;
  /** Why, in words (`namespace shop has istio.io/dataplane-mode=ambient`). */
  reason: string;
  /** Whether its namespace has `istio.io/dataplane-mode=ambient` (undefined: the Namespace is not known). */
  namespaceAmbient: boolean | undefined;
  /** The pod has an Istio sidecar: ambient never captures such a pod. */
  sidecar: boolean;
  /** istio-cni's `ambient.istio.io/redirection` annotation: `enabled` once the pod's traffic is redirected. */
  redirection?: string;
  /** The waypoint (`namespace/name`) this pod is an instance of, when it is one. */
  waypointInstance?: string;
}

/**
 * Istio's enrolment rule (istio-cni): a pod is in ambient when it or its namespace has
 * `istio.io/dataplane-mode=ambient`, unless the pod has a sidecar, uses the host network, is a ztunnel,
 * or says otherwise itself (`istio.io/dataplane-mode: none`, or the older `ambient.istio.io/redirection: disabled`).
 */
export function ambientEnrollment(pod: AmbientPod, namespaces: readonly AmbientNamespace[]): AmbientEnrollment {
  const ns = namespaceOf(pod);
  const nsObj = namespaces.find((n) => nameOf(n) === ns);
  const nsMode = nsObj ? labelsOf(nsObj)[DATAPLANE_MODE] : undefined;
  const namespaceAmbient = nsObj ? nsMode === DATAPLANE_MODE_AMBIENT : undefined;
  const labels = labelsOf(pod);
  const annotations = record(pod.metadata?.annotations) as Record<string, string>;
  // a waypoint's or ztunnel's own proxy container is no sidecar
  const infra = labels.app === 'ztunnel' || labels[GATEWAY_MANAGED] === MANAGED_BY_MESH_CONTROLLER;
  const sidecar = !infra && hasSidecar(pod);
  const out = (enrolled: boolean | undefined, reason: string): AmbientEnrollment => {
    const e: AmbientEnrollment = { enrolled, reason, namespaceAmbient, sidecar };
    const redirection = annotations[AMBIENT_REDIRECTION];
    if (redirection) e.redirection = redirection;
    if (labels[GATEWAY_MANAGED] === MANAGED_BY_MESH_CONTROLLER && labels[GATEWAY_NAME]) e.waypointInstance = `${ns}/${labels[GATEWAY_NAME]}`;
    return e;
  };
  if (labels.app === 'ztunnel') return out(false, 'it is a ztunnel');
  if (labels[GATEWAY_MANAGED] === MANAGED_BY_MESH_CONTROLLER) return out(false, labels[GATEWAY_NAME] ? `it is the waypoint proxy of ${ns}/${labels[GATEWAY_NAME]}` : 'it is a waypoint proxy');
  if (pod.spec?.hostNetwork) return out(false, 'it uses the host network, which ambient cannot capture');
  if (sidecar) return out(false, 'it has an Istio sidecar; ambient does not capture sidecar pods');
  const podMode = labels[DATAPLANE_MODE];
  if (podMode === DATAPLANE_MODE_AMBIENT) return out(true, `pod has ${DATAPLANE_MODE}=${DATAPLANE_MODE_AMBIENT}`);
  if (podMode !== undefined) return out(false, `pod opts out with ${DATAPLANE_MODE}=${podMode}`);
  if (annotations[AMBIENT_REDIRECTION] === 'disabled') return out(false, `pod opts out with ${AMBIENT_REDIRECTION}: disabled`);
  if (!nsObj) return out(undefined, `namespace ${ns} is not known, nor whether it has ${DATAPLANE_MODE}=${DATAPLANE_MODE_AMBIENT}`);
  if (namespaceAmbient) return out(true, `namespace ${ns} has ${DATAPLANE_MODE}=${DATAPLANE_MODE_AMBIENT}`);
  return out(false, nsMode ? `namespace ${ns} has ${DATAPLANE_MODE}=${nsMode}` : `neither the pod nor namespace ${ns} has ${DATAPLANE_MODE}=${DATAPLANE_MODE_AMBIENT}`);
}

/** An injected sidecar: the injector's status annotation, or an `istio-proxy` container (native sidecar included). */
export function hasSidecar(pod: AmbientPod): boolean {
  if (record(pod.metadata?.annotations)[SIDECAR_STATUS] !== undefined) return true;
  return (
    list(pod.spec?.containers).some((c) => c.name === 'istio-proxy') ||
    list(pod.spec?.initContainers).some((c) => c.name === 'istio-proxy' && c.restartPolicy === 'Always')
  );
}

/** The ztunnel serving a node: the `app=ztunnel` pod on it (in the Istio namespace first). */
export function ztunnelForNode(pods: readonly AmbientPod[], node: string | undefined, istioNamespace: string): AmbientPod | undefined {
  if (!node) return undefined;
  const onNode = pods.filter((p) => labelsOf(p).app === 'ztunnel' && p.spec?.nodeName === node);
  return onNode.find((p) => namespaceOf(p) === istioNamespace) ?? onNode[0];
}
