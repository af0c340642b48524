import type { KubeOptions } from '../kube/options.js';
import { MeshctlError, UsageError } from '../errors.js';
import { renderData, type DataFormat } from '../output/format.js';
import { writeStdout } from '../output/write.js';
import { waypointsReport, type AmbientWorld, type WaypointsReport } from '../ambient/index.js';
import { renderWaypointList, renderWaypointStatus } from '../ambient/render.js';

export type WaypointFormat = 'short' | 'wide' | DataFormat;

export interface WaypointOptions extends KubeOptions {
  files?: string[];
  /** A bug-report bundle read as the cluster (its Gateways, GatewayClasses, Namespaces, Services, Pods as captured). */
  bundle?: string;
  allNamespaces?: boolean;
  /** Only this waypoint (`--waypoint-name`, or istioctl's `--name`). */
  waypointName?: string;
  output: WaypointFormat;
  /** status: wait until every waypoint shown is programmed (live only). */
  wait?: boolean;
  waypointTimeout?: string;
}

interface Loaded {
  world: AmbientWorld;
  /** The namespace shown, or undefined for all. */
  scope: string | undefined;
  gatewayApi: boolean;
  warnings: string[];
}

/**
 * `meshctl waypoint list|status`: the Gateways of class istio-waypoint (files with --files, else the
 * cluster, live or a bug-report bundle with --bundle) → what uses each and what is wrong with the labels
 * naming them → istioctl's tables or data.
 */
export async function waypointCommand(sub: 'list' | 'status', options: WaypointOptions): Promise<void> {
  if (options.allNamespaces && options.namespace) throw new UsageError('--all-namespaces and --namespace exclude each other');
  const offline = Boolean(options.files && options.files.length > 0);
  if (options.bundle !== undefined && offline) throw new UsageError('give either --bundle (the captured cluster) or --files (saved resources), not both');
  // a bundle never changes: waiting on it would only time out
  if (options.wait && (offline || options.bundle !== undefined || sub !== 'status')) {
    throw new UsageError('--wait works only for waypoint status on a live cluster (not with --files or --bundle)');
  }

  let loaded = await load(options);
  let report = reportFor(loaded, options);
  if (options.wait) {
    const { parseDuration } = await import('../kube/index.js');
    const deadline = Date.now() + parseDuration(options.waypointTimeout ?? '90s');
    while (report.waypoints.some((w) => w.programmed !== 'True') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - Date.now()))));
      loaded = await load(options);
      report = reportFor(loaded, options);
    }
  }

  const allNamespaces = loaded.scope === undefined;
  // what could not be read; the labels' problems and what cannot be told come with the report
  const warnings = [
    ...(loaded.gatewayApi ? [] : ['the cluster serves no Gateway API Gateways (gateways.gateway.networking.k8s.io: 404): waypoints need the Gateway API CRDs']),
    ...loaded.warnings,
  ];
  if (options.output === 'json' || options.output === 'yaml') {
    writeStdout(renderData({ waypoints: report.waypoints, problems: report.problems, unknown: report.unknown, warnings }, options.output));
  } else {
    writeStdout(sub === 'list' ? renderWaypointList(report.waypoints, allNamespaces, options.output === 'wide') : renderWaypointStatus(report.waypoints, allNamespaces));
    // stderr: the table stays what istioctl prints, for scripts
    for (const n of [...warnings, ...report.problems, ...report.unknown]) process.stderr.write(`Warning: ${n}\n`);
  }
  if (options.wait) {
    const late = report.waypoints.filter((w) => w.programmed !== 'True');
    if (late.length) {
      throw new MeshctlError(`timed out after ${options.waypointTimeout ?? '90s'} waiting for waypoint ${late.map((w) => `${w.namespace}/${w.name}`).join(', ')} to be programmed`);
    }
  }
}

function reportFor(loaded: Loaded, options: WaypointOptions): WaypointsReport {
  const report = waypointsReport(loaded.world, {
    ...(loaded.scope !== undefined ? { namespace: loaded.scope } : {}),
    ...(options.waypointName !== undefined ? { name: options.waypointName } : {}),
  });
  // --revision: only that control plane's waypoints (`default` for those without istio.io/rev)
  if (options.revision) report.waypoints = report.waypoints.filter((w) => w.revision === options.revision);
  return report;
}

async function load(options: WaypointOptions): Promise<Loaded> {
  if (options.files && options.files.length > 0) {
    const { loadMeshObjects } = await import('../describe/load.js');
    const { ambientWorld } = await import('../describe/report.js');
    const objects = await loadMeshObjects(options.files);
    // the files are what the user chose to look at: all their namespaces unless -n narrows
    return { world: ambientWorld(objects), scope: options.allNamespaces ? undefined : options.namespace, gatewayApi: true, warnings: [] };
  }
  const { loadAmbientLive } = await import('../ambient/live.js');
  const live = await loadAmbientLive(options, options.allNamespaces === true);
  return { world: live.world, scope: options.allNamespaces ? undefined : live.namespace, gatewayApi: live.gatewayApi, warnings: live.warnings };
}
