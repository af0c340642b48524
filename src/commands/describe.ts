import { MeshctlError, UsageError } from '../errors.js';
import { colours } from '../output/colour.js';
import { renderData, type DataFormat } from '../output/format.js';
import { writeStdout } from '../output/write.js';
import { readInput } from '../source/file.js';
import { parseJson } from '../source/parse.js';
import { envoyViewFromConfigDump, type EnvoyView } from '../describe/envoy-view.js';
import { parseConfigDump } from '../envoy/config-dump.js';
import { loadMeshObjects } from '../describe/load.js';
import { meshSettingsFrom } from '../describe/mesh.js';
import type { KubeObject } from '../describe/objects.js';
import { namespaceOf, nameOf } from '../describe/objects.js';
import { renderPodReport, renderServiceReport } from '../describe/render.js';
import { describePod, describeService } from '../describe/report.js';

export type DescribeFormat = 'text' | DataFormat;

export interface DescribeOptions {
  files?: string[];
  file?: string;
  output: DescribeFormat;
  namespace?: string;
  istioNamespace: string;
  revision?: string;
}

/** `meshctl describe pod|service <name>`: objects (files) + optional config dump → report → text or data. */
export async function describeCommand(kind: 'pod' | 'service', ref: string, options: DescribeOptions): Promise<void> {
  if (!options.files || options.files.length === 0) {
    throw new MeshctlError(`describe ${kind} needs --files DIR (saved Kubernetes/Istio resources) for now: live mode is not built yet`);
  }
  const objects = await loadMeshObjects(options.files);
  const view = options.file ? await readEnvoyView(options.file) : undefined;
  const mesh = meshSettingsFrom(objects.configMaps, options.istioNamespace, options.revision);
  const meshWarnings = mesh.warning ? [mesh.warning] : [];

  if (kind === 'pod') {
    const pod = findObject(objects.pods, ref, options.namespace, 'pod', options.files);
    const cur = options.namespace ?? namespaceOf(pod);
    const report = describePod(objects, pod, { mesh: mesh.settings, currentNamespace: cur, envoy: view });
    report.warnings.unshift(...meshWarnings);
    emit(report, options.output, () => renderPodReport(report, colours(), cur));
  } else {
    const svc = findObject(objects.services, ref, options.namespace, 'service', options.files);
    const cur = options.namespace ?? namespaceOf(svc);
    const report = describeService(objects, svc, { mesh: mesh.settings, currentNamespace: cur, envoy: view });
    report.warnings.unshift(...meshWarnings);
    emit(report, options.output, () => renderServiceReport(report, colours(), cur));
  }
}

function emit(report: object, format: DescribeFormat, text: () => string): void {
  writeStdout(format === 'text' ? text() : renderData(report, format));
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
  if (!ref) throw new UsageError(`expecting ${what} name`);
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
