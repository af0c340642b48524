import type { KubeOptions } from '../cli/kube-options.js';
import type { Kube } from '../kube/index.js';
import { toResource, type LoadResult, type Resource } from '../resources/index.js';
import type { ResourceProvider } from './provider.js';
import { ISTIO_NAMESPACE } from './snapshot.js';

/** Built-in kinds analyze reads from a cluster, and how to list them. */
interface CoreKind {
  apiVersion: string;
  kind: string;
  resource: string;
  clusterScoped?: boolean;
  list(kube: Kube, namespace: string | undefined): Promise<{ items: unknown[] }>;
}

const CORE: CoreKind[] = [
  {
    apiVersion: 'v1', kind: 'Namespace', resource: 'namespaces', clusterScoped: true,
    list: (kube) => kube.call({ verb: 'list', resource: 'namespaces' }, (o) => kube.core.listNamespace({}, o)),
  },
  {
    apiVersion: 'v1', kind: 'Service', resource: 'services',
    list: (kube, ns) => kube.call({ verb: 'list', resource: 'services', namespace: ns }, (o) =>
      ns ? kube.core.listNamespacedService({ namespace: ns }, o) : kube.core.listServiceForAllNamespaces({}, o)),
  },
  {
    apiVersion: 'v1', kind: 'Pod', resource: 'pods',
    list: (kube, ns) => kube.call({ verb: 'list', resource: 'pods', namespace: ns }, (o) =>
      ns ? kube.core.listNamespacedPod({ namespace: ns }, o) : kube.core.listPodForAllNamespaces({}, o)),
  },
  {
    apiVersion: 'v1', kind: 'Secret', resource: 'secrets',
    list: (kube, ns) => kube.call({ verb: 'list', resource: 'secrets', namespace: ns }, (o) =>
      ns ? kube.core.listNamespacedSecret({ namespace: ns }, o) : kube.core.listSecretForAllNamespaces({}, o)),
  },
  {
    // only Istio's own: the injector's configuration (proxy image, enableNamespacesByDefault) and the mesh's
    apiVersion: 'v1', kind: 'ConfigMap', resource: 'configmaps', clusterScoped: true,
    list: (kube) => kube.call({ verb: 'list', resource: 'configmaps', namespace: ISTIO_NAMESPACE }, (o) =>
      kube.core.listNamespacedConfigMap({ namespace: ISTIO_NAMESPACE }, o)),
  },
  {
    // node locality labels Istio puts on endpoints (destination rule subsets may select on them)
    apiVersion: 'v1', kind: 'Node', resource: 'nodes', clusterScoped: true,
    list: (kube) => kube.call({ verb: 'list', resource: 'nodes' }, (o) => kube.core.listNode({}, o)),
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', resource: 'mutatingwebhookconfigurations.admissionregistration.k8s.io', clusterScoped: true,
    list: (kube) => kube.call({ verb: 'list', resource: 'mutatingwebhookconfigurations.admissionregistration.k8s.io' }, (o) =>
      kube.kc.makeApiClient(kube.lib.AdmissionregistrationV1Api).listMutatingWebhookConfiguration({}, o)),
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', resource: 'validatingwebhookconfigurations.admissionregistration.k8s.io', clusterScoped: true,
    list: (kube) => kube.call({ verb: 'list', resource: 'validatingwebhookconfigurations.admissionregistration.k8s.io' }, (o) =>
      kube.kc.makeApiClient(kube.lib.AdmissionregistrationV1Api).listValidatingWebhookConfiguration({}, o)),
  },
  {
    apiVersion: 'apps/v1', kind: 'Deployment', resource: 'deployments',
    list: (kube, ns) => kube.call({ verb: 'list', resource: 'deployments', namespace: ns }, (o) =>
      ns ? kube.apps.listNamespacedDeployment({ namespace: ns }, o) : kube.apps.listDeploymentForAllNamespaces({}, o)),
  },
];

/** Istio and Gateway API kinds: plural, and the versions to try, newest first (older clusters serve fewer). */
const CUSTOM: { group: string; plural: string; versions: string[] }[] = [
  ...['virtualservices', 'destinationrules', 'gateways', 'serviceentries', 'sidecars', 'workloadentries', 'workloadgroups'].map((plural) => ({
    group: 'networking.istio.io', plural, versions: ['v1', 'v1beta1', 'v1alpha3'],
  })),
  { group: 'networking.istio.io', plural: 'envoyfilters', versions: ['v1alpha3'] },
  ...['authorizationpolicies', 'peerauthentications', 'requestauthentications'].map((plural) => ({
    group: 'security.istio.io', plural, versions: ['v1', 'v1beta1'],
  })),
  { group: 'telemetry.istio.io', plural: 'telemetries', versions: ['v1', 'v1alpha1'] },
  { group: 'extensions.istio.io', plural: 'wasmplugins', versions: ['v1alpha1'] },
  { group: 'gateway.networking.k8s.io', plural: 'gateways', versions: ['v1', 'v1beta1'] },
  { group: 'gateway.networking.k8s.io', plural: 'httproutes', versions: ['v1', 'v1beta1'] },
  { group: 'gateway.networking.k8s.io', plural: 'grpcroutes', versions: ['v1', 'v1alpha2'] },
  { group: 'networking.istio.io', plural: 'proxyconfigs', versions: ['v1beta1'] },
];

/** The Gateway API CRDs whose bundle version k8sgateway.CRDVersionAnalyzer checks: read by name, not all CRDs listed. */
const GATEWAY_API_CRDS = ['grpcroutes', 'backendtlspolicies', 'tlsroutes'].map((p) => `${p}.gateway.networking.k8s.io`);

export interface ClusterProviderOptions extends Partial<KubeOptions> {
  /** Read only this namespace (when cluster-wide reads are refused, or by choice). */
  onlyNamespace?: string;
  /** Read only Services (a remote cluster, compared with this one by the multi-cluster analyzer). */
  servicesOnly?: boolean;
}

/**
 * The resources in a live cluster, read with @kubernetes/client-node: namespaces, services, pods,
 * deployments, secrets (only to check that Gateway credentials exist and hold a certificate; their
 * contents are never printed) and every Istio/Gateway API kind analyze knows. A kind whose CRD is not
 * installed is skipped; a kind the user may not list cluster-wide is read in the current namespace.
 */
export class ClusterProvider implements ResourceProvider {
  readonly complete = true;
  description = 'cluster';
  /** The kubeconfig context read, known once connected; names the cluster in multi-cluster findings. */
  contextName = '';
  /** The context's namespace (or -n), known once connected. */
  namespace = 'default';
  /** Kinds that could not be read at all (forbidden), for a warning. */
  readonly skipped: string[] = [];
  private kube?: Kube;

  constructor(private readonly options: ClusterProviderOptions) {}

  async connect(): Promise<void> {
    const { connect } = await import('../kube/index.js');
    this.kube = await connect(this.options);
    this.namespace = this.kube.namespace;
    this.contextName = this.kube.contextName;
    this.description = `cluster (context ${this.kube.contextName})`;
  }

  async load(): Promise<LoadResult> {
    if (!this.kube) await this.connect();
    const kube = this.kube!;
    const { ForbiddenError, NotFoundError } = await import('../kube/index.js');
    const resources: Resource[] = [];
    const add = (items: unknown[], apiVersion?: string, kind?: string) => {
      for (const item of items) {
        // typed list items come without apiVersion/kind; client-node's models also carry undefined fields
        const plain = JSON.parse(JSON.stringify(item)) as Record<string, unknown>;
        if (apiVersion && !plain.apiVersion) plain.apiVersion = apiVersion;
        if (kind && !plain.kind) plain.kind = kind;
        const r = toResource(plain);
        if (typeof r !== 'string') resources.push(r);
      }
    };
    /** Cluster-wide first; when that is forbidden, the one namespace this run is about. */
    const scoped = async <T>(clusterScoped: boolean | undefined, what: string, read: (ns: string | undefined) => Promise<T>): Promise<T | undefined> => {
      try {
        return await read(clusterScoped ? undefined : this.options.onlyNamespace);
      } catch (err) {
        if (!(err instanceof ForbiddenError)) throw err;
        if (clusterScoped || this.options.onlyNamespace) {
          this.skipped.push(what);
          return undefined;
        }
        try {
          return await read(this.namespace);
        } catch (err2) {
          if (!(err2 instanceof ForbiddenError)) throw err2;
          this.skipped.push(what);
          return undefined;
        }
      }
    };
    try {
      const core = this.options.servicesOnly ? CORE.filter((k) => k.kind === 'Service') : CORE;
      await Promise.all(
        core.map(async (k) => {
          const list = await scoped(k.clusterScoped, k.resource, (ns) => k.list(kube, ns));
          if (list) add(list.items, k.apiVersion, k.kind);
        }),
      );
      const custom = kube.kc.makeApiClient(kube.lib.CustomObjectsApi);
      await Promise.all(
        (this.options.servicesOnly ? [] : CUSTOM).map(async (c) => {
          for (const version of c.versions) {
            try {
              const list = await scoped(false, `${c.plural}.${c.group}`, (ns) =>
                kube.call({ verb: 'list', resource: `${c.plural}.${c.group}`, namespace: ns }, (o) =>
                  ns
                    ? custom.listNamespacedCustomObject({ group: c.group, version, plural: c.plural, namespace: ns }, o)
                    : custom.listClusterCustomObject({ group: c.group, version, plural: c.plural }, o),
                ),
              );
              if (list) add(((list as { items?: unknown[] }).items ?? []), `${c.group}/${version}`);
              return;
            } catch (err) {
              // this version (or the whole CRD) is not served: try the next one, else skip the kind
              if (err instanceof NotFoundError) continue;
              throw err;
            }
          }
        }),
      );
      // the Gateway API CRDs, by name: absent is fine; forbidden stands the version check down
      const one = async (what: string, read: () => Promise<unknown>, apiVersion: string, kind: string) => {
        try {
          add([await read()], apiVersion, kind);
        } catch (err) {
          if (err instanceof NotFoundError) return;
          if (!(err instanceof ForbiddenError)) throw err;
          if (!this.skipped.includes(what)) this.skipped.push(what);
        }
      };
      const crds = kube.kc.makeApiClient(kube.lib.ApiextensionsV1Api);
      // (the mesh config, the istio ConfigMap of istio-system, comes with the ConfigMaps listed above)
      await Promise.all([
        ...(this.options.servicesOnly ? [] : GATEWAY_API_CRDS).map((name) =>
          one('customresourcedefinitions.apiextensions.k8s.io', () =>
            kube.call({ verb: 'get', resource: 'customresourcedefinitions', group: 'apiextensions.k8s.io', name }, (o) => crds.readCustomResourceDefinition({ name }, o)),
          'apiextensions.k8s.io/v1', 'CustomResourceDefinition'),
        ),
      ]);
    } finally {
      kube.close();
    }
    return { resources, problems: [] };
  }
}
