/** The labels and annotations Istio's ambient mode reads (istio.io/api's label and annotation names). */

/** On a namespace or pod: `ambient` enrols it; on a pod, any other value (`none`) opts it out. */
export const DATAPLANE_MODE = 'istio.io/dataplane-mode';
export const DATAPLANE_MODE_AMBIENT = 'ambient';
/** On a namespace, service or pod: the waypoint (a Gateway name) its traffic goes through; `none` opts out. */
export const USE_WAYPOINT = 'istio.io/use-waypoint';
/** Beside use-waypoint: the waypoint's namespace, when it is not the labelled object's own. */
export const USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace';
/** On a waypoint Gateway (or its GatewayClass): which traffic it takes: service, workload, all or none. */
export const WAYPOINT_FOR = 'istio.io/waypoint-for';
export const WAYPOINT_CLASS = 'istio-waypoint';
/** istioctl's REVISION column. */
export const REVISION = 'istio.io/rev';
/** Set by istio-cni on a pod once its traffic is redirected to ztunnel (`enabled`, or `pending`). */
export const AMBIENT_REDIRECTION = 'ambient.istio.io/redirection';
/** The injector's record on a sidecar-injected pod: ambient never captures such a pod. */
export const SIDECAR_STATUS = 'sidecar.istio.io/status';
/** On the pods and Service Istio deploys for a Gateway. */
export const GATEWAY_NAME = 'gateway.networking.k8s.io/gateway-name';
export const GATEWAY_MANAGED = 'gateway.istio.io/managed';
export const MANAGED_BY_MESH_CONTROLLER = 'istio.io-mesh-controller';
/** Istio's condition on a Service saying whether it is bound to its waypoint. */
export const WAYPOINT_BOUND_CONDITION = 'istio.io/WaypointBound';

export const TRAFFIC_TYPES = ['service', 'workload', 'all', 'none'] as const;
