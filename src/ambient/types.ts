import type { LabelSelector, Labels } from '../resources/selector.js';

/**
 * The objects ambient mode is decided from, as parsed YAML/JSON or API answers: every field optional and
 * checked where it is used. Structural on purpose, so `describe`'s objects (and a later trace's) fit
 * without ambient depending on them.
 */

export interface Meta {
  name?: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
}

export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata?: Meta;
}

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface AmbientNamespace extends Obj {}

export interface AmbientPod extends Obj {
  spec?: {
    nodeName?: string;
    hostNetwork?: boolean;
    serviceAccountName?: string;
    containers?: { name?: string }[];
    initContainers?: { name?: string; restartPolicy?: string }[];
  };
  status?: { phase?: string; podIP?: string };
}

export interface AmbientService extends Obj {
  spec?: { selector?: Labels; clusterIP?: string };
  status?: { conditions?: Condition[] };
}

export interface GatewayListener {
  name?: string;
  port?: number;
  protocol?: string;
  allowedRoutes?: { namespaces?: { from?: string; selector?: LabelSelector } };
}

/** A `gateway.networking.k8s.io` Gateway: a waypoint when its class is `istio-waypoint`. */
export interface AmbientGateway extends Obj {
  spec?: { gatewayClassName?: string; listeners?: GatewayListener[] };
  status?: { addresses?: { type?: string; value?: string }[]; conditions?: Condition[] };
}

export interface AmbientGatewayClass extends Obj {
  spec?: { controllerName?: string };
}

/** What rules an AuthorizationPolicy has, as far as ztunnel's L4-only enforcement cares. */
export interface AuthzRule {
  from?: { source?: Record<string, unknown> }[];
  to?: { operation?: Record<string, unknown> }[];
  when?: { key?: string; values?: string[]; notValues?: string[] }[];
}

/** A rule as written, when it is an object (files may hold anything). */
export function asRule(r: unknown): AuthzRule {
  return r !== null && typeof r === 'object' && !Array.isArray(r) ? (r as AuthzRule) : {};
}

export interface PolicyTargetRef {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

export interface AmbientAuthorizationPolicy extends Obj {
  spec?: {
    selector?: { matchLabels?: Labels };
    targetRef?: PolicyTargetRef;
    targetRefs?: PolicyTargetRef[];
    action?: string;
    /** As written; read through `asRule`, which drops what is not a rule object. */
    rules?: unknown[];
  };
}

/**
 * Everything ambient decisions read. Lists may be partial (offline files hold what the user saved);
 * functions say `unknown` where a missing object (a Namespace, a GatewayClass) would decide.
 */
export interface AmbientWorld {
  namespaces: AmbientNamespace[];
  pods: AmbientPod[];
  services: AmbientService[];
  gateways: AmbientGateway[];
  gatewayClasses: AmbientGatewayClass[];
  authorizationPolicies: AmbientAuthorizationPolicy[];
  /**
   * networking.istio.io ServiceEntries: bound to a waypoint as Services are (their own or their namespace's
   * `istio.io/use-waypoint`). Absent: not read (only a waypoint's policies need them).
   */
  serviceEntries?: Obj[];
}

export function nameOf(o: Obj): string {
  return o.metadata?.name ?? '';
}

/** Objects without a namespace live in `default`, as kubectl apply would put them. */
export function namespaceOf(o: Obj): string {
  return o.metadata?.namespace || 'default';
}

export function labelsOf(o: Obj | undefined): Labels {
  return record(o?.metadata?.labels) as Labels;
}

/** A field that should be a list, as a list of objects (files may hold anything: a number, a string, nulls). */
export function list<T>(v: T[] | undefined): T[] {
  return Array.isArray(v) ? v.filter((x): x is T => x !== null && typeof x === 'object') : [];
}

/** A field that should be a map, as one. */
export function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
