/**
 * The Envoy model: what an Envoy's admin API says, typed, with queries over it. Knows nothing of terminals.
 *
 * Reading
 * - `parseConfigDump(json, sourceName)` takes a parsed `/config_dump` (with or without `?include_eds`)
 *   and returns a `ConfigDump`: one pass, no copies. Each entry is a small typed record that points at the
 *   raw Envoy object (snake_case, exactly as Envoy emitted it), e.g.
 *   `{ state: 'active', name, cluster /* raw *\/, versionInfo, lastUpdated, raw /* wrapper *\/ }`.
 *   Sections: `bootstrap`, `clusters` (static/active/warming), `listeners` (static/active/warming/
 *   draining/error), `routes` (static/dynamic), `scopedRoutes`, `secrets` (static/active/warming),
 *   `endpoints` (EDS), `ecds`; `sections` lists every element of `configs` in order (unknown `@type`s
 *   included), `present` says which sections exist. Unknown fields stay on the raw objects.
 *   Not a config dump at all (no `configs` list) throws a MeshctlError; a malformed section or entry
 *   is skipped and described in `problems` (`{section, what, reason}`) while the rest is usable.
 * - `parseClustersStatus(json, sourceName)` reads `/clusters?format=json` (hosts, health flags,
 *   outlier state); `isClustersStatus(json)` tells the two documents apart.
 *
 * Queries (./query.ts; maps are built lazily once per dump, lookups are O(1))
 * - lists: `listListeners`, `listRouteConfigs`, `listClusters`, `listEndpointConfigs`, `listSecrets`
 *   (dynamic entries first, then static, as istioctl reads them);
 * - lookups: `findListener(name)`, `findListenersByAddress(address, port)`, `findRouteConfig(name)`,
 *   `findCluster(name)`, `findSecret(name)`, `endpointsOfCluster(clusterName)` (EDS, else the
 *   cluster's load_assignment), `lbEndpointsOf(cla)` to flatten one.
 * - listener parts (./listener.ts): `filterChainsOf`, `httpConnectionManager`, `tcpProxy`,
 *   `rdsRouteName`, `listenerAddress(es)`, `listenerPort`, `addressString`, `endpointAddresses`.
 * - Istio (./istio.ts): `parseIstioClusterName('outbound|9080|v1|reviews.default.svc.cluster.local')`
 *   → `{direction, port, subset, fqdn}`; `destinationRuleOf(cluster)`, `virtualServiceOf(route)` →
 *   `name.namespace` from `filter_metadata.istio.config`; `istioConfigRef`, `istioServicesOf`.
 * - Secrets (./secrets.ts): `secretCertificate(entry)` (node:crypto X509Certificate: type, serial,
 *   validity), `redactSecrets(value)` (copy-on-write; use it on anything printed).
 * - Go-compatible ordering (./gosort.ts): `goSortSlice` reproduces Go's sort.Slice exactly, so tables
 *   with ties come out in istioctl's order; `goSortStrict` is the fast equivalent for strict orderings.
 * - istioctl's tables (./summary.ts, imported directly; one module per table in ./tables/): `clusterSummary`, `listenerSummary`,
 *   `routeSummary`, `edsEndpointSummary`, `clusterStatusEndpointSummary`, `secretRows`, `ecdsSummary`,
 *   and the cell wording on its own: `describeFilterChainMatch`, `describeFilterChainDestination`,
 *   `describeRouteMatch`, `describeRouteDomains`, `listenerType`, `localityString`.
 */
export * from './types.js';
export * from './config-dump.js';
export * from './clusters-status.js';
export * from './query.js';
export * from './listener.js';
export * from './istio.js';
export * from './secrets.js';
export { goSortSlice, goSortStrict } from './gosort.js';
