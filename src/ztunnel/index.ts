/**
 * The ztunnel domain: a ztunnel's /config_dump read into a model with ztunnel's own lookups, and
 * istioctl's `ztunnel-config` tables over it. Nothing here talks to a cluster (see src/kube/ztunnel.ts).
 *
 *   const model = new ZtunnelModel(parseZtunnelDump(JSON.parse(text), 'dump.json'));
 *   const w = model.workloadByAddress('10.244.1.12');          // ztunnel's pick among overlapping addresses
 *   model.workloadsByName('productpage-v1-…', 'bookinfo');     // a pod's workload(s)
 *   model.serviceByVip('10.96.74.131');                         // or serviceByNamespacedHostname('ns/host')
 *   model.workloadWaypoint(w); model.serviceWaypoint(svc);      // ResolvedGateway: the waypoint's service/workload, port
 *   model.policiesFor(w);                                       // { global, namespace, selector, missing }
 *   model.certificateFor(workloadIdentity(w)); model.connectionsOf(name, ns);
 *   model.podView('productpage-v1-…', 'bookinfo');             // all of the above for one pod (describe)
 *
 * - types.ts: the dump's JSON exactly as ztunnel writes it (field names, value forms).
 * - parse.ts: `parseZtunnelDump` checks each section and entry (list or older map form), skipping broken
 *   ones with a reason; refuses Envoy documents; `looksLikeZtunnelDump` for other commands' checks.
 * - model.ts: `ZtunnelModel` and accessors applying ztunnel's defaults (`workloadIps`, `workloadProtocol`,
 *   `workloadIdentity`, `splitNetworkAddress`, …).
 * - summary.ts: istioctl's tables (`workloadTable`, `serviceTable`, `policyTable`, `certificateTable`,
 *   `connectionTable`) and the filters behind them, also used for -o json|yaml selections.
 */
export * from './types.js';
export * from './parse.js';
export * from './model.js';
export * from './summary.js';
export * from './rbac.js';
export * from './upstream.js';
