/**
 * The bug-report bundle format (docs/bundle.md): a tar.gz, or the same files in a directory.
 *
 *   meshctl-bundle.json   the locator: where index.json starts in the file (a tar.gz only; first member)
 *   resources/<ns>/<plural>[.<group>].json, resources/_cluster/…   Kubernetes and Istio objects (List)
 *   pods/<ns>/<pod>/…     what each pod's ports, logs and execs answered (config_dump.json, clusters.json,
 *                         server_info.json, debug/syncz.json, logs/<container>.log, exec/<container>/…)
 *   index.json            what was collected, from where, when; what failed and why; every member's
 *                         size, SHA-256 and byte offset (last member)
 *
 * In the tar.gz every member is its own gzip member (a gzip file may hold several one after another;
 * gunzip and tar read them as one stream), so a reader can start decompressing at any member's offset:
 * one pod's dump is read from a 1 GB bundle without decompressing what comes before it.
 */

export const FORMAT = 'meshctl-bundle';
export const FORMAT_VERSION = 1;
export const LOCATOR = 'meshctl-bundle.json';
export const INDEX = 'index.json';

/** Limits a reader enforces on what it is given (a bundle may come from anyone). */
export const LIMITS = {
  /** One member, read whole: the most V8 can hold as a string. */
  member: 512 * 1024 * 1024,
  index: 64 * 1024 * 1024,
  locator: 4096,
  /** Decompressed bytes per compressed byte beyond which a stream is taken for a zip bomb. */
  ratio: 200,
  /** The ratio is judged only after this many decompressed bytes (small members compress very well). */
  ratioAfter: 16 * 1024 * 1024,
};

export interface MemberInfo {
  size: number;
  sha256: string;
  /** Byte offset in the tar.gz of the gzip member that starts with this member's tar header. */
  offset?: number;
}

/** How a recorded call failed, so that a bundle fails it the same way (a 403 stays a 403). */
export interface RecordedError {
  message: string;
  type: 'forbidden' | 'not-found' | 'timeout' | 'stopped' | 'error';
  /** For forbidden and not-found: what was refused, in RBAC terms. */
  action?: { verb: 'get' | 'list' | 'create'; resource: string; group?: string; namespace?: string; name?: string };
}

interface CallBase {
  /** `namespace/name` */
  pod: string;
  at: string;
  member?: string;
  error?: RecordedError;
}

/** A GET on a port of a pod (Envoy or ztunnel admin, istiod debug). Non-200 bodies are kept inline. */
export interface GetRecord extends CallBase {
  call: 'get';
  port: number;
  path: string;
  status?: number;
  body?: string;
}

export interface LogsRecord extends CallBase {
  call: 'logs';
  container: string;
}

export interface ExecRecord extends CallBase {
  call: 'exec';
  container: string;
  argv: string[];
  exitCode?: number;
  stderr?: string;
  message?: string;
}

export type CallRecord = GetRecord | LogsRecord | ExecRecord;

/** One list of one kind: cluster-wide (`scope: 'all'`) or of one namespace, split by namespace. */
export interface ResourceRecord {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** `all` (every namespace, or a cluster-scoped kind) or the one namespace listed. */
  scope: string;
  /** namespace (`_cluster` for cluster-scoped kinds) → member */
  members: Record<string, string>;
  count: number;
  /** Only some objects were kept (e.g. the mesh ConfigMaps of the Istio namespace). */
  filter?: string;
  /**
   * Only the objects some lookup found (a CNI-mode pod's istio-cni-node pod, outside the selected
   * namespaces): a name it lacks is not known to be absent, so the list answers cluster-wide lookups
   * but not its namespace's gets and lists, and does not count as covering that namespace.
   */
  partial?: boolean;
  /**
   * Only the objects matching this label selector (API server syntax), in every namespace (`scope: all`):
   * the list answers lists whose selector requires as much (what `waypoint list|status` asks cluster-wide),
   * never a get or a list without it, and its refusal is replayed for such a list only.
   */
  labelSelector?: string;
  error?: RecordedError;
}

export interface Failure {
  what: string;
  reason: string;
}

export interface BundleIndex {
  format: typeof FORMAT;
  version: number;
  meshctl: string;
  started: string;
  finished: string;
  cluster: { context: string; server: string; namespace: string; istioNamespace: string; revision?: string };
  request: {
    namespaces: string[] | 'all';
    labelSelector?: string;
    includeIstiod: boolean;
    includeZtunnel: boolean;
    timeout: string;
    maxSize?: number;
    requestTimeout: string;
    concurrency: number;
  };
  /** False when a limit or an interrupt ended collection early, or something failed. */
  complete: boolean;
  /** Why collection ended early, if it did. */
  stopped?: string;
  /** Pods whose data was collected, by role. */
  pods: { proxies: string[]; istiods: string[]; ztunnels: string[]; skipped: Failure[] };
  resources: ResourceRecord[];
  /** The kinds refused across all namespaces (-A) and listed namespace by namespace instead. */
  perNamespace?: PerNamespace[];
  calls: CallRecord[];
  failures: Failure[];
  members: Record<string, MemberInfo>;
}

/**
 * A namespaced kind whose list across all namespaces was refused (403) while the namespaces could be
 * listed: bug-report (-A) listed it in each namespace instead. Each namespace's list (or its refusal) is in
 * `resources` with that namespace as its scope; the refused cluster-wide list is there too.
 */
export interface PerNamespace {
  group: string;
  version: string;
  plural: string;
  kind: string;
  /** Namespaces asked, of `of` listed; `refused` those that refused too. */
  namespaces: number;
  of: number;
  refused: string[];
  /** Why not every namespace was asked: the --max-namespaces cap, or collection stopped. */
  cut?: string;
}

/**
 * A member name is a relative path of plain segments: nothing absolute, no `..`, no backslashes or
 * control characters. Returns why a name is unsafe, or undefined.
 */
export function unsafeName(name: string): string | undefined {
  if (name === '' || name.length > 1024) return 'an empty or overlong name';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(name)) return 'a control character or backslash in its name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  const parts = name.replace(/\/$/, '').split('/');
  if (parts.some((p) => p === '..')) return 'a ".." path segment (path traversal)';
  if (parts.some((p) => p === '' || p === '.')) return 'an empty or "." path segment';
  return undefined;
}

/** `./pods/x` (tar made by hand in a directory) reads as `pods/x`. */
export function normalName(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/$/, '');
}
