import type { KubeOptions } from '../kube/options.js';
import { MeshctlError, UsageError } from '../errors.js';
import { colours } from '../output/colour.js';
import { renderData, type DataFormat } from '../output/format.js';
import { writeStdout } from '../output/write.js';
import { readInput } from '../source/file.js';
import { parseDocument, parseJson } from '../source/parse.js';
import { ztunnelViewOf, type ZtunnelWorkloadView } from '../ambient/index.js';
import { parseZtunnelDump, ZtunnelModel } from '../ztunnel/index.js';
import { envoyViewFromConfigDump, type EnvoyView } from '../describe/envoy-view.js';
import { parseConfigDump } from '../envoy/config-dump.js';
import { loadMeshObjects } from '../describe/load.js';
import { meshSettingsFrom } from '../describe/mesh.js';
import type { KubeObject, MeshObjects, Pod, Service } from '../describe/objects.js';
import { namespaceOf, nameOf } from '../describe/objects.js';
import { renderPodReport, renderServiceReport } from '../describe/render.js';
import { addIstiodConnection, describePod, describeService } from '../describe/report.js';

export type DescribeFormat = 'text' | DataFormat;

export interface DescribeOptions extends KubeOptions {
  files?: string[];
  file?: string;
  /** A saved ztunnel /config_dump (ambient pods); live mode reads the one on the pod's node. */
  ztunnelFile?: string;
  /** A bug-report bundle read as the cluster (objects, dumps, istiod's syncz, ztunnels as captured). */
  bundle?: string;
  output: DescribeFormat;
}

/**
 * `meshctl describe pod|service <name>`: the objects (saved files with --files, else the cluster) and the
 * pod's config dump (-f, else its admin port in live mode) → report → text or data.
 */
export async function describeCommand(kind: 'pod' | 'service', ref: string, options: DescribeOptions): Promise<void> {
  if (!ref) throw new UsageError(`expecting ${kind} name`);
  if (options.bundle !== undefined && options.files?.length) throw new UsageError('give either --bundle (the captured cluster) or --files (saved resources), not both');
  const fileView = options.file ? await readEnvoyView(options.file) : undefined;
  const ztunnelModel = options.ztunnelFile ? await readZtunnelModel(options.ztunnelFile) : undefined;
  let objects: MeshObjects;
  let target: Pod | Service;
  let envoy = fileView;
  let istiod;
  let ztunnelsKnown: boolean | undefined;
  let ztunnelView: ZtunnelWorkloadView | undefined;
  const sourceWarnings: string[] = [];
  if (options.files && options.files.length > 0) {
    objects = await loadMeshObjects(options.files);
    target = kind === 'pod' ? findObject(objects.pods, ref, options.namespace, 'pod', options.files) : findObject(objects.services, ref, options.namespace, 'service', options.files);
  } else {
    const { loadLive } = await import('../describe/live.js');
    const live = await loadLive(kind, ref, options, fileView === undefined, ztunnelModel === undefined);
    objects = live.objects;
    target = live.target;
    envoy ??= live.envoy;
    istiod = live.istiod;
    ztunnelsKnown = live.ztunnelsKnown;
    ztunnelView = live.ztunnelView;
    sourceWarnings.push(...live.warnings);
  }

  const mesh = meshSettingsFrom(objects.configMaps, options.istioNamespace, options.revision);
  if (mesh.warning) sourceWarnings.push(mesh.warning);
  const cur = options.namespace ?? namespaceOf(target);
  // offline, ztunnelsKnown is left to the files (whether they hold any ztunnel pod)
  if (ztunnelModel) ztunnelView = ztunnelViewOf(ztunnelModel.model, nameOf(target), namespaceOf(target), ztunnelModel.name);
  const describeOptions = {
    mesh: mesh.settings,
    currentNamespace: cur,
    envoy,
    istioNamespace: options.istioNamespace,
    ...(ztunnelsKnown !== undefined ? { ztunnelsKnown } : {}),
    ...(ztunnelView ? { ztunnelView } : {}),
  };
  if (kind === 'pod') {
    const report = describePod(objects, target as Pod, describeOptions);
    addIstiodConnection(report, istiod);
    report.warnings.unshift(...sourceWarnings);
    emit(report, options.output, () => renderPodReport(report, colours(), cur));
  } else {
    const report = describeService(objects, target as Service, describeOptions);
    report.warnings.unshift(...sourceWarnings);
    emit(report, options.output, () => renderServiceReport(report, colours(), cur));
  }
}

function emit(report: object, format: DescribeFormat, text: () => string): void {
  writeStdout(format === 'text' ? text() : renderData(report, format));
}

async function readZtunnelModel(file: string): Promise<{ model: ZtunnelModel; name: string }> {
  const input = await readInput(file);
  return { model: new ZtunnelModel(parseZtunnelDump(parseDocument(input), input.name)), name: input.name };
}

async function readEnvoyView(file: string): Promise<EnvoyView> {
  const input = await readInput(file);
  return envoyViewFromConfigDump(parseConfigDump(parseJson(input), input.name));
}

/**
 * Finds `name`, or `name.namespace` (istioctl's convention) when no namespace is given. Without a namespace a
 * name found in exactly one namespace is taken; several is ambiguous.
 */
export function findObject<T extends KubeObject>(list: T[], ref: string, namespace: string | undefined, what: string, files: string[]): T {
  const candidates: [string, string | undefined][] = [[ref, namespace]];
  const dot = ref.lastIndexOf('.');
  if (dot > 0 && !namespace) candidates.push([ref.slice(0, dot), ref.slice(dot + 1)]);
  for (const [name, ns] of candidates) {
    const found = list.filter((o) => nameOf(o) === name && (ns === undefined || namespaceOf(o) === ns));
    if (found.length === 1) return found[0];
    if (found.length > 1) {
      throw new UsageError(`${what} ${name} exists in namespaces ${found.map(namespaceOf).join(', ')}: say which with -n or ${name}.<namespace>`);
    }
  }
  const where = namespace ? ` in namespace ${namespace}` : '';
  throw new MeshctlError(`${what} ${ref} not found${where} in ${files.join(', ')}`);
}
