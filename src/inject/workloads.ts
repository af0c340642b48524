import { type Obj, InjectError, isObj } from './config.js';
import type { PodTarget } from './pod.js';
import type { WorkloadRef } from './template.js';

/** API groups each injectable kind may come from (istioctl's scheme). */
const KINDS: Record<string, string[]> = {
  Pod: [''],
  ReplicationController: [''],
  Deployment: ['apps', 'extensions'],
  StatefulSet: ['apps'],
  DaemonSet: ['apps', 'extensions'],
  ReplicaSet: ['apps', 'extensions'],
  Job: ['batch'],
  CronJob: ['batch'],
  DeploymentConfig: ['apps.openshift.io', ''],
};

const group = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

export function isWorkload(doc: unknown): doc is Obj {
  if (!isObj(doc) || typeof doc.kind !== 'string' || typeof doc.apiVersion !== 'string') return false;
  const groups = KINDS[doc.kind];
  return groups !== undefined && groups.includes(group(doc.apiVersion));
}

export function isList(doc: unknown): doc is Obj {
  return isObj(doc) && doc.kind === 'List' && doc.apiVersion === 'v1';
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, val] of Object.entries(v)) out[k] = val === null || val === undefined ? '' : String(val);
  return out;
}

/** Injection reads labels and annotations as strings, as Kubernetes stores them. */
function metaOf(holder: Obj, key = 'metadata'): Obj {
  if (holder[key] === undefined || holder[key] === null) {
    // a new metadata goes first, where Kubernetes objects keep it
    const rest = { ...holder };
    for (const k of Object.keys(holder)) delete holder[k];
    Object.assign(holder, { [key]: {} }, rest);
    holder[key] = {};
  }
  if (!isObj(holder[key])) throw new InjectError(`${key} is not a mapping`);
  return holder[key] as Obj;
}

/**
 * A pod's workload as the injector derives it (GetDeployMetaFromPod): only a pod whose name is generated
 * belongs to its controller; a ReplicaSet's pods to its Deployment (or Argo Rollout), a
 * ReplicationController's to the OpenShift DeploymentConfig named by their `deploymentconfig` label, a
 * Job named `<name>-<8 to 11 digits>` to its CronJob.
 */
function podOwner(pod: Obj, meta: Obj): WorkloadRef {
  const namespace = String(meta.namespace ?? '');
  const self: WorkloadRef = { kind: 'Pod', apiVersion: 'v1', name: String(meta.name ?? ''), namespace };
  if (typeof meta.generateName !== 'string' || meta.generateName === '') return self;
  const refs = Array.isArray(meta.ownerReferences) ? (meta.ownerReferences as Obj[]) : [];
  const ctl = refs.find((r) => isObj(r) && r.controller === true);
  if (!ctl) return self;
  const labels = stringMap(meta.labels);
  const ref: WorkloadRef = { kind: String(ctl.kind ?? ''), apiVersion: String(ctl.apiVersion ?? ''), name: String(ctl.name ?? ''), namespace };
  const hash = labels['pod-template-hash'];
  const rolloutHash = labels['rollouts-pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(hash)) {
    return { ...ref, kind: 'Deployment', name: trimSuffix(ref.name, '-' + hash) };
  }
  if (ref.kind === 'ReplicaSet' && rolloutHash && ref.name.endsWith(rolloutHash)) {
    return { ...ref, kind: 'Rollout', apiVersion: 'v1alpha1', name: trimSuffix(ref.name, '-' + rolloutHash) };
  }
  if (ref.kind === 'ReplicationController' && labels.deploymentconfig) return { ...ref, kind: 'DeploymentConfig', name: labels.deploymentconfig };
  if (ref.kind === 'Job') {
    const m = /^(.+)-\d{8,11}$/.exec(ref.name);
    if (m) return { ...ref, kind: 'CronJob', apiVersion: 'batch/v1', name: m[1] };
  }
  return ref.name ? ref : { ...ref, name: self.name };
}

function trimSuffix(s: string, suffix: string): string {
  return s.endsWith(suffix) ? s.slice(0, -suffix.length) : s;
}

/** Finds the pod template of an injectable object; throws when the object has none. */
export function podTarget(doc: Obj): PodTarget {
  const kind = String(doc.kind);
  const meta = metaOf(doc);
  const ref = (): WorkloadRef => ({
    kind,
    apiVersion: String(doc.apiVersion),
    name: String(meta.name ?? ''),
    namespace: String(meta.namespace ?? ''),
  });
  if (kind === 'Pod') {
    const spec = requireSpec(doc, 'spec');
    return { meta, labels: stringMap(meta.labels), annotations: stringMap(meta.annotations), spec, workload: podOwner(doc, meta) };
  }
  const spec = doc.spec;
  if (!isObj(spec)) throw new InjectError('has no spec');
  if (kind === 'CronJob') {
    const jobTemplate = spec.jobTemplate;
    if (!isObj(jobTemplate)) throw new InjectError('has no job template (spec.jobTemplate)');
    const jobSpec = jobTemplate.spec;
    if (!isObj(jobSpec) || !isObj(jobSpec.template)) throw new InjectError('has no pod template (spec.jobTemplate.spec.template)');
    const template = jobSpec.template as Obj;
    // istioctl writes a CronJob's injected labels and annotations on the job template; we read
    // the pod template's too, so settings written where they take effect are honoured
    const jobMeta = metaOf(jobTemplate);
    const podMeta = metaOf(template);
    return {
      meta: jobMeta,
      labels: { ...stringMap(jobMeta.labels), ...stringMap(podMeta.labels) },
      annotations: { ...stringMap(jobMeta.annotations), ...stringMap(podMeta.annotations) },
      spec: requireSpec(template, 'spec.jobTemplate.spec.template.spec'),
      workload: ref(),
    };
  }
  if (!isObj(spec.template)) throw new InjectError('has no pod template (spec.template)');
  const template = spec.template as Obj;
  const podMeta = metaOf(template);
  return {
    meta: podMeta,
    labels: stringMap(podMeta.labels),
    annotations: stringMap(podMeta.annotations),
    spec: requireSpec(template, 'spec.template.spec'),
    workload: ref(),
  };
}

function requireSpec(holder: Obj, path: string): Obj {
  const spec = holder.spec;
  if (!isObj(spec)) throw new InjectError(`has no pod spec (${path})`);
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) throw new InjectError(`has no containers (${path}.containers)`);
  for (const key of ['containers', 'initContainers']) {
    const list = spec[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new InjectError(`${path}.${key} is not a list`);
    for (const [i, c] of list.entries()) {
      if (!isObj(c) || typeof c.name !== 'string' || c.name.trim() === '') throw new InjectError(`container ${i + 1} in ${path}.${key} has no name`);
    }
  }
  return spec;
}

function setDefault(obj: Obj, key: string, value: unknown): void {
  if (obj[key] === undefined) obj[key] = value;
}

/**
 * The empty fields Go's structs add when istioctl re-serialises an injected object (`status: {}`,
 * `resources: {}`, ...). They change nothing in the cluster; adding them keeps our output equal, as
 * data, to istioctl's. Uninject removes them again.
 */
export function addGoZeroFields(doc: Obj, target: PodTarget): void {
  for (const key of ['initContainers', 'containers']) {
    const list = target.spec[key];
    if (Array.isArray(list)) for (const c of list) if (isObj(c)) setDefault(c, 'resources', {});
  }
  const spec = isObj(doc.spec) ? doc.spec : undefined;
  switch (doc.kind) {
    case 'Deployment':
      if (spec) setDefault(spec, 'strategy', {});
      setDefault(doc, 'status', {});
      break;
    case 'DaemonSet':
      if (spec) setDefault(spec, 'updateStrategy', {});
      setDefault(doc, 'status', {});
      if (isObj(doc.status)) {
        for (const k of ['currentNumberScheduled', 'desiredNumberScheduled', 'numberMisscheduled', 'numberReady']) setDefault(doc.status, k, 0);
      }
      break;
    case 'StatefulSet':
      if (spec) setDefault(spec, 'updateStrategy', {});
      setDefault(doc, 'status', {});
      if (isObj(doc.status)) for (const k of ['replicas', 'availableReplicas']) setDefault(doc.status, k, 0);
      break;
    case 'ReplicaSet':
    case 'ReplicationController':
      setDefault(doc, 'status', {});
      if (isObj(doc.status)) setDefault(doc.status, 'replicas', 0);
      break;
    case 'CronJob':
      if (spec && isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec) && isObj(spec.jobTemplate.spec.template)) {
        setDefault(spec.jobTemplate.spec.template, 'metadata', {});
      }
      setDefault(doc, 'status', {});
      break;
    case 'Pod':
    case 'Job':
      setDefault(doc, 'status', {});
      break;
    default:
      break;
  }
}

/** Names a document in messages: `Deployment "ns/name"`. */
export function describeObject(doc: unknown): string {
  if (!isObj(doc)) return '';
  const meta = isObj(doc.metadata) ? doc.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? meta.generateName + '*' : '';
  const ns = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace + '/' : '';
  const kind = typeof doc.kind === 'string' ? doc.kind : 'object';
  return name ? `${kind} "${ns}${name}"` : kind;
}
