/**
 * Istio's ambient mode, decided from Kubernetes objects (files or a cluster): shared by `waypoint`,
 * `describe` and the ambient trace.
 *
 *   ambientEnrollment(pod, namespaces)       // in ambient? (istio.io/dataplane-mode on pod or namespace, sidecar, opt-outs)
 *   waypointFor(world, svcOrPod, 'service' | 'workload')   // istiod's waypoint binding, with its reason when refused
 *   waypointFacts(gateway, gatewayClasses)   // REVISION, TRAFFIC TYPE, PROGRAMMED, conditions, address, allowedRoutes
 *   waypointsReport(world, { namespace, name })            // `waypoint list/status`: waypoints and what uses each
 *   servicesOfWaypoint(world, namespace, name)             // the Services and ServiceEntries a waypoint serves (targetRefs)
 *   podAmbientFacts(world, pod, services, options)         // `describe pod`: ztunnel, waypoints, warnings
 *   ztunnelPolicyWarnings(...)               // AuthorizationPolicies ztunnel cannot enforce as written (L7, CUSTOM)
 */
export * from './labels.js';
export * from './types.js';
export { ambientEnrollment, hasSidecar, ztunnelForNode, type AmbientEnrollment } from './enrollment.js';
export { attachmentAllowed, isWaypointClass, namedWaypoint, waypointFacts, waypointFor, type TrafficKind, type WaypointBinding, type WaypointFacts } from './waypoints.js';
export { hasTargetRefs, l7Attributes, unenforcedTargetRefWarnings, ztunnelPolicies, ztunnelPolicyWarnings } from './policies.js';
export { servicesOfWaypoint, waypointsReport, type WaypointService, type WaypointScope, type WaypointUse, type WaypointsReport } from './usage.js';
export { ambientRelevant, bindingWarnings, boundConditionWarnings, podAmbientFacts, type PodAmbientFacts, type PodAmbientOptions, type ServiceWaypoint, type ZtunnelWorkloadView } from './pod.js';
export { ztunnelViewOf } from './ztunnel-view.js';
