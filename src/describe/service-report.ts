/**
 * What describe finds for one service: the report's service part. Its own module so that the report
 * (./report.ts) and the proxy cross-check (./envoy-view.ts), which each use the other's types, import it
 * from below instead of from each other.
 */
import type { DrScope, SubsetMatch, TrafficPolicySummary } from './destination-rules.js';
import type { MeshRouteFacts, MeshRouteVia } from './mesh-routes.js';
import type { EndpointState, ServicePortFacts } from './services.js';
import type { VirtualServiceFacts } from './virtual-services.js';

export interface DestinationRuleFacts {
  /** The rule(s) applied, oldest first (several = merged by Istio), with where each was read from. */
  rules: { name: string; namespace: string; origin?: string }[];
  /** The rule's host as written, and as Istio expands it. */
  host: string;
  resolvedHost: string;
  /** Which of Istio's lookups found it: the client's namespace, the service's, or the root namespace. */
  scope: DrScope;
  subsets: SubsetMatch;
  trafficPolicy?: TrafficPolicySummary;
  /** Policies of the matching subsets, which override the rule's for traffic to that subset. */
  subsetPolicies: { subset: string; trafficPolicy: TrafficPolicySummary }[];
}

export interface ServiceReport {
  name: string;
  namespace: string;
  host: string;
  ports: ServicePortFacts[];
  /** Whether the described pod is in the service's Endpoints (pod mode, when Endpoints are known). */
  endpoint?: EndpointState;
  destinationRule?: DestinationRuleFacts;
  virtualServices: VirtualServiceFacts[];
  /** Gateway API routes attached to the service (mesh routing); present only when there are any. */
  meshRoutes?: MeshRouteFacts[];
  /** Mesh routes on other parents (Services, ServiceEntries) sending traffic to the service; present when any. */
  meshRoutesVia?: MeshRouteVia[];
  warnings: string[];
}
