/**
 * istioctl's proxy-config tables, cell for cell: which rows, in which order, with which wording
 * (`Cluster: x`, `Route: 9080`, `Inline Route: /healthz/ready*`, `PassthroughCluster`, `Non-HTTP/Non-TCP`,
 * `ALL`, `Addr: *:9080`, ...). Produces plain strings; the command lays them out with renderTable.
 * One module per table under ./tables/, as istioctl's writer (istioctl/pkg/writer/envoy/configdump) has
 * one file per resource; this module gathers them.
 */
export type { Summary } from './tables/table.js';
export * from './tables/cluster.js';
export * from './tables/listener.js';
export * from './tables/route.js';
export * from './tables/endpoint.js';
export * from './tables/secret.js';
export * from './tables/bootstrap.js';
export * from './tables/ecds.js';
