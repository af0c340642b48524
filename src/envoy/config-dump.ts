import { MeshctlError } from '../errors.js';
import { arr, isObject, kindOf, str } from './json.js';
import type {
  AnyMessage,
  Bootstrap,
  Cluster,
  ClusterLoadAssignment,
  JsonObject,
  Listener,
  RouteConfiguration,
  Secret,
} from './types.js';

/** The sections of a v3 ConfigDump, named by the last part of their `@type`. */
export type SectionKind = 'bootstrap' | 'clusters' | 'listeners' | 'scopedRoutes' | 'routes' | 'secrets' | 'endpoints' | 'ecds';

export const SECTION_TYPES: Record<SectionKind, string> = {
  bootstrap: 'BootstrapConfigDump',
  clusters: 'ClustersConfigDump',
  listeners: 'ListenersConfigDump',
  scopedRoutes: 'ScopedRoutesConfigDump',
  routes: 'RoutesConfigDump',
  secrets: 'SecretsConfigDump',
  endpoints: 'EndpointsConfigDump',
  ecds: 'EcdsConfigDump',
};

const KIND_BY_TYPE = new Map<string, SectionKind>(
  Object.entries(SECTION_TYPES).map(([kind, type]) => [type, kind as SectionKind]),
);

/** Fields every entry keeps from its wrapper (`version_info`, `last_updated`, `client_status`, `error_state`). */
interface EntryMeta {
  versionInfo?: string;
  lastUpdated?: string;
  clientStatus?: string;
  /** Envoy's `error_state` (UpdateFailureState) when the last update was rejected. */
  errorState?: JsonObject;
  /** The wrapper object as it stands in the dump (e.g. one element of `dynamic_active_clusters`). */
  raw: JsonObject;
}

export type ClusterState = 'static' | 'active' | 'warming';
export interface ClusterEntry extends EntryMeta {
  state: ClusterState;
  name: string;
  cluster: Cluster;
}

export type ListenerState = 'static' | 'active' | 'warming' | 'draining' | 'error';
export interface ListenerEntry extends EntryMeta {
  state: ListenerState;
  name: string;
  /** For `error`, the configuration Envoy refused (`error_state.failed_configuration`), when it carries one. */
  listener: Listener;
}

export type RouteConfigState = 'static' | 'dynamic';
export interface RouteConfigEntry extends EntryMeta {
  state: RouteConfigState;
  name: string;
  routeConfig: RouteConfiguration;
}

export type ScopedRoutesState = 'inline' | 'dynamic';
export interface ScopedRoutesEntry extends EntryMeta {
  state: ScopedRoutesState;
  name: string;
  scopedRouteConfigs: AnyMessage[];
}

export type SecretState = 'static' | 'active' | 'warming';
export interface SecretEntry extends EntryMeta {
  state: SecretState;
  name: string;
  /** Absent for a warming secret Envoy has not received yet. */
  secret?: Secret;
}

export type EndpointConfigState = 'static' | 'dynamic';
export interface EndpointConfigEntry extends EntryMeta {
  state: EndpointConfigState;
  clusterName: string;
  endpointConfig: ClusterLoadAssignment;
}

export interface EcdsEntry extends EntryMeta {
  name: string;
  /** The TypedExtensionConfig (`{name, typed_config}`). */
  filter: AnyMessage;
}

export interface BootstrapSection {
  bootstrap: Bootstrap;
  lastUpdated?: string;
  raw: JsonObject;
}

/** One element of `configs`, in dump order; `kind` is undefined for an `@type` meshctl does not model. */
export interface Section {
  index: number;
  typeUrl: string;
  kind?: SectionKind;
  raw: unknown;
  /** False when the section was malformed and skipped. */
  ok: boolean;
}

/** Something in the dump that could not be used; the rest of the dump still is. */
export interface Problem {
  section: SectionKind | 'dump';
  /** What was skipped, e.g. `the clusters section (configs[1])` or `2 of 40 entries of the clusters section`. */
  what: string;
  reason: string;
}

export interface ConfigDump {
  /** The file name (or `pod.namespace`) the dump came from, for messages. */
  source: string;
  /** The dump as parsed; entries below point into it (nothing is copied). */
  raw: JsonObject;
  sections: Section[];
  /** Which sections the dump has (even if empty), so "no listeners" and "no listener section" differ. */
  present: Set<SectionKind>;
  bootstrap?: BootstrapSection;
  clusters: ClusterEntry[];
  listeners: ListenerEntry[];
  routes: RouteConfigEntry[];
  scopedRoutes: ScopedRoutesEntry[];
  secrets: SecretEntry[];
  endpoints: EndpointConfigEntry[];
  ecds: EcdsEntry[];
  problems: Problem[];
}

/** Kind of a section from its `@type` (v3 and v2alpha type URLs alike). */
export function sectionKind(typeUrl: string): SectionKind | undefined {
  const dot = typeUrl.lastIndexOf('.');
  return KIND_BY_TYPE.get(dot >= 0 ? typeUrl.slice(dot + 1) : typeUrl);
}

/**
 * Reads a parsed `/config_dump` (with or without `?include_eds`) in one pass, keeping references into
 * the parsed JSON. Throws only when the document is not a config dump at all; malformed sections and
 * entries are skipped and listed in `problems`.
 */
export function parseConfigDump(raw: unknown, sourceName: string): ConfigDump {
  if (!isObject(raw) || !Array.isArray(raw.configs)) {
    throw new MeshctlError(`${sourceName}: not an Envoy config dump (${notADumpReason(raw)})`);
  }
  const dump: ConfigDump = {
    source: sourceName,
    raw: raw as JsonObject,
    sections: [],
    present: new Set(),
    clusters: [],
    listeners: [],
    routes: [],
    scopedRoutes: [],
    secrets: [],
    endpoints: [],
    ecds: [],
    problems: [],
  };
  const configs = raw.configs as unknown[];
  for (let index = 0; index < configs.length; index++) {
    const config = configs[index];
    const typeUrl = isObject(config) ? str(config['@type']) : undefined;
    if (!isObject(config) || typeUrl === undefined) {
      dump.sections.push({ index, typeUrl: typeUrl ?? '', raw: config, ok: false });
      dump.problems.push({
        section: 'dump',
        what: `configs[${index}]`,
        reason: isObject(config) ? 'it has no "@type"' : `it is ${kindOf(config)}, not an object`,
      });
      continue;
    }
    const kind = sectionKind(typeUrl);
    const section: Section = { index, typeUrl, kind, raw: config, ok: true };
    dump.sections.push(section);
    if (!kind) continue; // kept in `sections` (and in -o json output), not modelled
    dump.present.add(kind);
    const ctx = new SectionReader(dump, kind, index);
    const bad = ctx.checkLists(config, LIST_FIELDS[kind]);
    if (bad) {
      section.ok = false;
      dump.problems.push({ section: kind, what: ctx.label, reason: bad });
      continue;
    }
    READERS[kind](config, ctx, dump);
    ctx.finish();
  }
  return dump;
}

function notADumpReason(raw: unknown): string {
  if (!isObject(raw)) return `the document is ${kindOf(raw)}, expected an object with a "configs" list`;
  if ('configs' in raw) return `"configs" is ${kindOf(raw.configs)}, expected a list`;
  if (Array.isArray(raw.cluster_statuses)) return 'it looks like /clusters?format=json output; use it with "proxy-config endpoints"';
  const type = str(raw['@type']);
  if (type) return `it is a single ${type.slice(type.lastIndexOf('/') + 1)}, expected the whole /config_dump`;
  // ztunnel's /config_dump (ambient mode) sits on the same admin port
  if (['workloads', 'services', 'policies', 'workloadState'].some((k) => k in raw)) return "it is a ztunnel's config dump, not an Envoy's; read it with meshctl ztunnel-config";
  return 'no "configs" list; expected the output of Envoy\'s /config_dump';
}

const LIST_FIELDS: Record<SectionKind, string[]> = {
  bootstrap: [],
  clusters: ['static_clusters', 'dynamic_active_clusters', 'dynamic_warming_clusters'],
  listeners: ['static_listeners', 'dynamic_listeners'],
  scopedRoutes: ['inline_scoped_route_configs', 'dynamic_scoped_route_configs'],
  routes: ['static_route_configs', 'dynamic_route_configs'],
  secrets: ['static_secrets', 'dynamic_active_secrets', 'dynamic_warming_secrets'],
  endpoints: ['static_endpoint_configs', 'dynamic_endpoint_configs'],
  ecds: ['ecds_filters'],
};

/** How a section is named to the user ("the scoped routes section"). */
export const SECTION_LABEL: Record<SectionKind, string> = {
  bootstrap: 'bootstrap',
  clusters: 'clusters',
  listeners: 'listeners',
  scopedRoutes: 'scoped routes',
  routes: 'routes',
  secrets: 'secrets',
  endpoints: 'endpoints',
  ecds: 'ECDS',
};

/** Counts skipped entries of one section so a bad dump gives one warning per section, not thousands. */
class SectionReader {
  readonly label: string;
  private skipped = 0;
  private total = 0;
  private firstReason = '';

  constructor(
    private readonly dump: ConfigDump,
    private readonly kind: SectionKind,
    index: number,
  ) {
    this.label = `the ${SECTION_LABEL[kind]} section (configs[${index}])`;
  }

  checkLists(config: Record<string, unknown>, fields: string[]): string | undefined {
    for (const f of fields) {
      const v = config[f];
      if (v !== undefined && v !== null && !Array.isArray(v)) return `"${f}" is ${kindOf(v)}, expected a list`;
    }
    return undefined;
  }

  /** Visits each object element of `config[field]`; `read` returns a reason string to skip it. */
  each(config: Record<string, unknown>, field: string, read: (e: Record<string, unknown>) => string | void): void {
    const list = arr(config[field]);
    for (let i = 0; i < list.length; i++) {
      this.total++;
      const e = list[i];
      const reason = isObject(e) ? read(e) : `it is ${kindOf(e)}, not an object`;
      if (reason) this.skip(`${field}[${i}] ${reason.startsWith('it ') ? reason.replace(/^it /, '') : reason}`);
    }
  }

  skip(reason: string): void {
    this.skipped++;
    if (!this.firstReason) this.firstReason = reason;
  }

  finish(): void {
    if (this.skipped === 0) return;
    const more = this.skipped > 1 ? ` (and ${this.skipped - 1} more)` : '';
    this.dump.problems.push({
      section: this.kind,
      what: `${this.skipped} of ${this.total} entries of ${this.label}`,
      reason: `${this.firstReason}${more}`,
    });
  }
}

/** Wrapper fields of an entry; `state` is the object holding version_info/last_updated when not the entry itself. */
function meta(e: Record<string, unknown>, state?: Record<string, unknown>): EntryMeta {
  const s = state ?? e;
  const v = s.version_info ?? e.version_info;
  const u = s.last_updated ?? e.last_updated;
  const err = e.error_state;
  return {
    versionInfo: typeof v === 'string' ? v : undefined,
    lastUpdated: typeof u === 'string' ? u : undefined,
    clientStatus: typeof e.client_status === 'string' ? e.client_status : undefined,
    errorState: isObject(err) ? (err as JsonObject) : undefined,
    raw: e as JsonObject,
  };
}

/** An entry = its typed fields + the wrapper fields, built without intermediate spreads (10,000s of entries). */
function entry<T extends object>(fields: T, m: EntryMeta): T & EntryMeta {
  const out = fields as T & EntryMeta;
  out.versionInfo = m.versionInfo;
  out.lastUpdated = m.lastUpdated;
  out.clientStatus = m.clientStatus;
  out.errorState = m.errorState;
  out.raw = m.raw;
  return out;
}

type Reader = (config: Record<string, unknown>, ctx: SectionReader, dump: ConfigDump) => void;

const READERS: Record<SectionKind, Reader> = {
  bootstrap(config, ctx, dump) {
    if (!isObject(config.bootstrap)) {
      ctx.skip('"bootstrap" is missing or not an object');
      return;
    }
    dump.bootstrap = { bootstrap: config.bootstrap as Bootstrap, lastUpdated: str(config.last_updated), raw: config as JsonObject };
  },

  clusters(config, ctx, dump) {
    const add = (state: ClusterState) => (e: Record<string, unknown>) => {
      if (!isObject(e.cluster)) return 'has no "cluster" object';
      const cluster = e.cluster as Cluster;
      dump.clusters.push(entry({ state, name: str(cluster.name) ?? '', cluster }, meta(e)));
    };
    ctx.each(config, 'static_clusters', add('static'));
    ctx.each(config, 'dynamic_active_clusters', add('active'));
    ctx.each(config, 'dynamic_warming_clusters', add('warming'));
  },

  listeners(config, ctx, dump) {
    ctx.each(config, 'static_listeners', (e) => {
      if (!isObject(e.listener)) return 'has no "listener" object';
      const listener = e.listener as Listener;
      dump.listeners.push(entry({ state: 'static' as ListenerState, name: str(listener.name) ?? '', listener }, meta(e)));
    });
    ctx.each(config, 'dynamic_listeners', (e) => {
      const name = str(e.name);
      let found = false;
      for (const [field, state] of DYNAMIC_LISTENER_STATES) {
        const s = e[field];
        if (s === undefined || s === null) continue;
        if (!isObject(s)) return `has a "${field}" that is ${kindOf(s)}`;
        const listener = (state === 'error' ? s.failed_configuration : s.listener) as Listener | undefined;
        if (state !== 'error' && !isObject(listener)) return `has a "${field}" without a "listener" object`;
        found = true;
        dump.listeners.push({
          state,
          name: name ?? str(listener?.name) ?? '',
          listener: isObject(listener) ? listener : {},
          ...meta(e, state === 'error' ? undefined : s),
          ...(state === 'error' ? { lastUpdated: str(s.last_update_attempt), errorState: s as JsonObject } : {}),
        });
      }
      if (!found) return 'has no active, warming, draining or error state';
    });
  },

  scopedRoutes(config, ctx, dump) {
    const add = (state: ScopedRoutesState) => (e: Record<string, unknown>) => {
      dump.scopedRoutes.push(entry({ state, name: str(e.name) ?? '', scopedRouteConfigs: arr<AnyMessage>(e.scoped_route_configs) }, meta(e)));
    };
    ctx.each(config, 'inline_scoped_route_configs', add('inline'));
    ctx.each(config, 'dynamic_scoped_route_configs', add('dynamic'));
  },

  routes(config, ctx, dump) {
    const add = (state: RouteConfigState) => (e: Record<string, unknown>) => {
      if (!isObject(e.route_config)) return 'has no "route_config" object';
      const routeConfig = e.route_config as RouteConfiguration;
      dump.routes.push(entry({ state, name: str(routeConfig.name) ?? '', routeConfig }, meta(e)));
    };
    ctx.each(config, 'static_route_configs', add('static'));
    ctx.each(config, 'dynamic_route_configs', add('dynamic'));
  },

  secrets(config, ctx, dump) {
    const add = (state: SecretState) => (e: Record<string, unknown>) => {
      const secret = e.secret;
      if (secret !== undefined && secret !== null && !isObject(secret)) return `has a "secret" that is ${kindOf(secret)}`;
      if (secret == null && state !== 'warming') return 'has no "secret" object';
      const s = (secret ?? undefined) as Secret | undefined;
      dump.secrets.push(entry({ state, name: str(e.name) ?? str(s?.name) ?? '', secret: s }, meta(e)));
    };
    ctx.each(config, 'static_secrets', add('static'));
    ctx.each(config, 'dynamic_active_secrets', add('active'));
    ctx.each(config, 'dynamic_warming_secrets', add('warming'));
  },

  endpoints(config, ctx, dump) {
    const add = (state: EndpointConfigState) => (e: Record<string, unknown>) => {
      if (!isObject(e.endpoint_config)) return 'has no "endpoint_config" object';
      const endpointConfig = e.endpoint_config as ClusterLoadAssignment;
      dump.endpoints.push(entry({ state, clusterName: str(endpointConfig.cluster_name) ?? '', endpointConfig }, meta(e)));
    };
    ctx.each(config, 'static_endpoint_configs', add('static'));
    ctx.each(config, 'dynamic_endpoint_configs', add('dynamic'));
  },

  ecds(config, ctx, dump) {
    ctx.each(config, 'ecds_filters', (e) => {
      if (!isObject(e.ecds_filter)) return 'has no "ecds_filter" object';
      const filter = e.ecds_filter as AnyMessage;
      dump.ecds.push(entry({ name: str(filter.name) ?? '', filter }, meta(e)));
    });
  },
};

const DYNAMIC_LISTENER_STATES: [string, ListenerState][] = [
  ['active_state', 'active'],
  ['warming_state', 'warming'],
  ['draining_state', 'draining'],
  ['error_state', 'error'],
];
