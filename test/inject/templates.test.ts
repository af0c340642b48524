/**
 * Istio's injector beyond the default sidecar: the gateway and proxyless gRPC templates, lifecycle hooks,
 * multi-target metrics merging, native-sidecar overrides and workload names of OpenShift pods.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { type Obj, container, deployment, env, inject, podTemplate, uninject } from './util.js';

const STATUS = 'sidecar.istio.io/status';
const OVERRIDES = 'proxy.istio.io/overrides';
const names = (list: unknown) => ((list as Obj[] | undefined) ?? []).map((c) => c.name);

const gatewayDeployment = (extra: Obj[] = []) =>
  yaml.dump({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'shop-gateway', namespace: 'edge' },
    spec: {
      selector: { matchLabels: { istio: 'shop-gateway' } },
      template: {
        metadata: { labels: { istio: 'shop-gateway' }, annotations: { 'inject.istio.io/templates': 'gateway' } },
        spec: { containers: [...extra, { name: 'istio-proxy', image: 'auto', imagePullPolicy: 'IfNotPresent' }] },
      },
    },
  });

test('the gateway template: the proxy as a router in containers, no iptables, low ports allowed', () => {
  const r = inject(gatewayDeployment());
  assert.deepEqual(r.notes, []);
  const doc = r.docs[0];
  const { metadata, spec } = podTemplate(doc);
  const a = metadata.annotations as Record<string, string>;
  assert.equal(
    a[STATUS],
    '{"initContainers":null,"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}',
  );
  // image "auto" is dropped from the recorded customisation; resources is always written, as Go does
  assert.equal(a[OVERRIDES], '{"containers":[{"name":"istio-proxy","resources":{},"imagePullPolicy":"IfNotPresent"}]}');
  assert.equal(a['istio.io/rev'], 'default');
  assert.equal(a['prometheus.io/port'], '15020');
  assert.deepEqual(metadata.labels, { istio: 'shop-gateway', 'service.istio.io/canonical-name': 'shop-gateway', 'service.istio.io/canonical-revision': 'latest' });
  assert.equal(spec.initContainers, undefined);
  assert.deepEqual(names(spec.containers), ['istio-proxy']);
  assert.deepEqual(spec.securityContext, { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] });
  const proxy = container(doc, 'istio-proxy');
  assert.deepEqual((proxy.args as string[]).slice(0, 3), ['proxy', 'router', '--domain']);
  assert.equal(proxy.image, 'docker.io/istio/proxyv2:1.28.0');
  assert.equal(proxy.imagePullPolicy, 'IfNotPresent');
  assert.deepEqual(proxy.securityContext, { runAsUser: 1337, runAsGroup: 1337 });
  assert.deepEqual(proxy.resources, {});
  assert.equal(proxy.startupProbe, undefined);
  assert.deepEqual(proxy.readinessProbe, { httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 });
  assert.deepEqual(names(proxy.env), [
    'PILOT_CERT_PROVIDER', 'CA_ADDR', 'POD_NAME', 'POD_NAMESPACE', 'INSTANCE_IP', 'SERVICE_ACCOUNT', 'HOST_IP', 'ISTIO_CPU_LIMIT', 'PROXY_CONFIG',
    'ISTIO_META_POD_PORTS', 'GOMEMLIMIT', 'GOMAXPROCS', 'ISTIO_META_APP_CONTAINERS', 'ISTIO_META_CLUSTER_ID', 'ISTIO_META_NODE_NAME',
    'ISTIO_META_INTERCEPTION_MODE', 'ISTIO_META_WORKLOAD_NAME', 'ISTIO_META_OWNER', 'ISTIO_META_MESH_ID', 'TRUST_DOMAIN',
  ]);
  // Go leaves an empty env value out
  assert.deepEqual((proxy.env as Obj[]).find((e) => e.name === 'ISTIO_META_APP_CONTAINERS'), { name: 'ISTIO_META_APP_CONTAINERS' });
  assert.equal(env(doc, 'ISTIO_META_OWNER'), 'kubernetes://apis/apps/v1/namespaces/edge/deployments/shop-gateway');
  // and back again
  assert.deepEqual(uninject(r.text).docs[0], yaml.load(gatewayDeployment()));
});

test('the gateway template with an app container: the proxy goes last, the app is the default container', () => {
  const app = { name: 'httpbin', image: 'kennethreitz/httpbin', ports: [{ containerPort: 8080, protocol: 'TCP' }] };
  const doc = inject(gatewayDeployment([app])).docs[0];
  const { metadata, spec } = podTemplate(doc);
  assert.deepEqual(names(spec.containers), ['httpbin', 'istio-proxy']);
  assert.equal((metadata.annotations as Obj)['kubectl.kubernetes.io/default-container'], 'httpbin');
  assert.equal(env(doc, 'ISTIO_META_APP_CONTAINERS'), 'httpbin');
  assert.equal(env(doc, 'ISTIO_META_POD_PORTS'), '[\n    {"containerPort":8080,"protocol":"TCP"}\n]');
});

test('the grpc-agent template: the agent without Envoy, and the app containers told where its bootstrap is', () => {
  const text = deployment({
    annotations: { 'inject.istio.io/templates': 'grpc-agent' },
    spec: { containers: [{ name: 'traffic', image: 'example/traffic:1', readinessProbe: { httpGet: { port: 80 } } }] },
  });
  const doc = inject(text).docs[0];
  const { metadata, spec } = podTemplate(doc);
  const a = metadata.annotations as Record<string, string>;
  assert.equal(
    a[STATUS],
    '{"initContainers":null,"containers":["istio-proxy","traffic"],"volumes":["workload-socket","workload-certs","istio-xds","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}',
  );
  assert.equal(a[OVERRIDES], '{"containers":[{"name":"traffic","image":"example/traffic:1","resources":{},"readinessProbe":{"httpGet":{"port":80}}}]}');
  assert.equal(a['sidecar.istio.io/rewriteAppHTTPProbers'], 'false');
  assert.deepEqual(names(spec.containers), ['traffic', 'istio-proxy']);
  const app = container(doc, 'traffic');
  assert.deepEqual(app.readinessProbe, { httpGet: { port: 80 } }, 'the app probe is not rewritten');
  assert.deepEqual(app.env, [
    { name: 'GRPC_XDS_EXPERIMENTAL_SECURITY_SUPPORT', value: 'true' },
    { name: 'GRPC_XDS_BOOTSTRAP', value: '/etc/istio/proxy/grpc-bootstrap.json' },
  ]);
  assert.deepEqual(names(app.volumeMounts), ['istio-data', 'istio-xds', 'workload-certs']);
  const proxy = container(doc, 'istio-proxy');
  assert.deepEqual((proxy.args as string[]).slice(0, 2), ['proxy', 'sidecar']);
  assert.deepEqual(proxy.ports, [{ containerPort: 15020, protocol: 'TCP', name: 'mesh-metrics' }]);
  assert.deepEqual(proxy.lifecycle, { postStart: { exec: { command: ['pilot-agent', 'wait', '--url=http://localhost:15020/healthz/ready'] } } });
  assert.equal(env(doc, 'DISABLE_ENVOY'), 'true');
  assert.equal(env(doc, 'ISTIO_META_GENERATOR'), 'grpc');
  assert.deepEqual(uninject(inject(text).text).docs[0], yaml.load(text));
});

test('the grpc-simple template: a bootstrap init container and no agent at all', () => {
  const text = deployment({
    annotations: { 'inject.istio.io/templates': 'grpc-simple' },
    spec: { containers: [{ name: 'traffic', image: 'example/traffic:1' }] },
  });
  const doc = inject(text).docs[0];
  const { metadata, spec } = podTemplate(doc);
  const a = metadata.annotations as Record<string, string>;
  assert.equal(a[STATUS], '{"initContainers":["grpc-bootstrap-init"],"containers":["traffic"],"volumes":["grpc-io-proxyless-bootstrap"],"imagePullSecrets":null,"revision":"default"}');
  assert.equal(a['istio.io/rev'], undefined);
  assert.equal((metadata.labels as Obj)['service.istio.io/canonical-name'], undefined);
  assert.deepEqual(names(spec.initContainers), ['grpc-bootstrap-init']);
  const init = container(doc, 'grpc-bootstrap-init');
  assert.equal(init.image, 'busybox:1.28');
  assert.match((init.command as string[])[2], /^NODE_ID="sidecar~\$\{INSTANCE_IP\}~\$\{POD_NAME\}\.\$\{POD_NAMESPACE\}~cluster\.local"\nSERVER_URI="dns:\/\/\/istiod\.\$\{ISTIO_NAMESPACE\}\.svc:15010"\n/);
  assert.deepEqual((init.env as Obj[]).at(-1), { name: 'ISTIO_NAMESPACE', value: 'istio-system\n' });
  assert.deepEqual((container(doc, 'traffic').env as Obj[]).map((e) => `${e.name}=${e.value}`), [
    'GRPC_XDS_BOOTSTRAP=/var/lib/grpc/data/bootstrap.json',
    'GRPC_GO_LOG_VERBOSITY_LEVEL=99',
    'GRPC_GO_LOG_SEVERITY_LEVEL=info',
  ]);
  assert.deepEqual(spec.volumes, [{ name: 'grpc-io-proxyless-bootstrap', emptyDir: {} }]);
  assert.deepEqual(uninject(inject(text).text).docs[0], yaml.load(text));
});

test('an unknown template is still one clear error', () => {
  assert.throws(() => inject(deployment({ annotations: { 'inject.istio.io/templates': 'spire' } })), /injection template "spire" is not supported/);
});

test('lifecycle hooks go to /app-lifecycle/<container>/poststartz and prestopz; probes stay under /app-health', () => {
  const hooks = {
    lifecycle: { postStart: { httpGet: { path: '/warm', port: 8080 } }, preStop: { tcpSocket: { port: 8080 } } },
    readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
  };
  const text = deployment({ container: hooks });
  const r = inject(text);
  const app = container(r.docs[0], 'api');
  assert.deepEqual((app.lifecycle as Obj).postStart, { httpGet: { path: '/app-lifecycle/api/poststartz', port: 15020 } });
  assert.deepEqual((app.lifecycle as Obj).preStop, { httpGet: { path: '/app-lifecycle/api/prestopz', port: 15020 } });
  assert.deepEqual(app.readinessProbe, { httpGet: { path: '/app-health/api/readyz', port: 15020 } });
  assert.deepEqual(Object.keys(JSON.parse(env(r.docs[0], 'ISTIO_KUBE_APP_PROBERS')!)), ['/app-health/api/readyz', '/app-lifecycle/api/poststartz', '/app-lifecycle/api/prestopz']);
  assert.deepEqual(uninject(r.text).docs[0], yaml.load(text));
});

test('metrics merging with several scrape targets: the targets list, as the injector writes it', () => {
  const text = deployment({ annotations: { 'prometheus.io/scrape': 'true', 'prometheus.istio.io/scrape-targets': '8080:/metrics,9100:/custom-metrics' } });
  const r = inject(text);
  const a = podTemplate(r.docs[0]).metadata.annotations as Record<string, string>;
  assert.equal(env(r.docs[0], 'ISTIO_PROMETHEUS_ANNOTATIONS'), '{"scrape":"true","path":"/metrics","port":"8080","targets":[{"port":"8080","path":"/metrics"},{"port":"9100","path":"/custom-metrics"}]}');
  assert.equal(a['prometheus.istio.io/scrape-targets'], undefined, 'the agent scrapes them now');
  assert.deepEqual([a['prometheus.io/port'], a['prometheus.io/path'], a['prometheus.io/scrape']], ['15020', '/stats/prometheus', 'true']);
  assert.deepEqual(uninject(r.text).docs[0], yaml.load(text));
  // a port the user set explicitly stays the primary one; a target without a path leaves it to the agent
  const ownText = deployment({ annotations: { 'prometheus.io/port': '9000', 'prometheus.istio.io/scrape-targets': '9100,9200:/m' } });
  const own = inject(ownText);
  assert.equal(env(own.docs[0], 'ISTIO_PROMETHEUS_ANNOTATIONS'), '{"scrape":"","path":"","port":"9000","targets":[{"port":"9100","path":""},{"port":"9200","path":"/m"}]}');
  assert.deepEqual(uninject(own.text).docs[0], yaml.load(ownText));
  assert.throws(() => inject(deployment({ annotations: { 'prometheus.istio.io/scrape-targets': 'http:/metrics' } })), /prometheus\.istio\.io\/scrape-targets/);
});

test('native sidecars record a customised proxy under initContainers; the classic layout under containers', () => {
  const custom = { name: 'istio-proxy', image: 'auto', resources: { limits: { memory: '2Gi', cpu: '1000m' } }, securityContext: { runAsUser: 1500 } };
  const native = inject(deployment({ spec: { initContainers: [custom], containers: [{ name: 'api', image: 'api:1' }] } }));
  const a = podTemplate(native.docs[0]).metadata.annotations as Record<string, string>;
  assert.equal(a[OVERRIDES], '{"initContainers":[{"name":"istio-proxy","resources":{"limits":{"cpu":"1","memory":"2Gi"}},"securityContext":{"runAsUser":1500}}]}');
  assert.equal((container(native.docs[0], 'istio-proxy').securityContext as Obj).runAsUser, 1500);
  // written under containers, as Istio's docs show it: moved to the native sidecar, recorded the same way
  const moved = inject(deployment({ spec: { containers: [{ name: 'api', image: 'api:1' }, custom] } }));
  assert.equal((podTemplate(moved.docs[0]).metadata.annotations as Record<string, string>)[OVERRIDES], a[OVERRIDES]);
  const classic = inject(deployment({ annotations: { 'sidecar.istio.io/nativeSidecar': 'false' }, spec: { containers: [{ name: 'api', image: 'api:1' }, custom] } }));
  assert.equal(
    (podTemplate(classic.docs[0]).metadata.annotations as Record<string, string>)[OVERRIDES],
    '{"containers":[{"name":"istio-proxy","resources":{"limits":{"cpu":"1","memory":"2Gi"}},"securityContext":{"runAsUser":1500}}]}',
  );
  // uninject puts each back where Istio keeps it
  assert.deepEqual(names(podTemplate(uninject(native.text).docs[0]).spec.initContainers), ['istio-proxy']);
  assert.deepEqual(names(podTemplate(uninject(classic.text).docs[0]).spec.containers), ['api', 'istio-proxy']);
});

test('a pod of an OpenShift DeploymentConfig is named after the DeploymentConfig, as the injector derives it', () => {
  const pod = (labels: Record<string, string>, owner: Obj, generateName = 'shop-1-') =>
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...(generateName ? { generateName } : { name: 'shop-1-abcde' }), namespace: 'store', labels, ownerReferences: [owner] },
      spec: { containers: [{ name: 'web', image: 'web:1' }] },
    });
  const rc = { apiVersion: 'v1', kind: 'ReplicationController', name: 'shop-1', controller: true, uid: 'u1' };
  const doc = inject(pod({ deploymentconfig: 'shop', deployment: 'shop-1' }, rc)).docs[0];
  const e = (n: string) => ((doc.spec as Obj).initContainers as Obj[]).find((c) => c.name === 'istio-proxy')!.env as Obj[];
  const value = (n: string) => e(n).find((x) => x.name === n)?.value;
  assert.equal(value('ISTIO_META_WORKLOAD_NAME'), 'shop');
  assert.equal(value('ISTIO_META_OWNER'), 'kubernetes://apis/v1/namespaces/store/deploymentconfigs/shop');
  assert.equal(((doc.metadata as Obj).labels as Obj)['service.istio.io/canonical-name'], 'shop');
  // a labelled app name still wins for the canonical name
  const labelled = inject(pod({ deploymentconfig: 'shop', app: 'storefront' }, rc)).docs[0];
  assert.equal(((labelled.metadata as Obj).labels as Obj)['service.istio.io/canonical-name'], 'storefront');
  // a pod with a fixed name is its own workload, whatever owns it
  const named = inject(pod({ deploymentconfig: 'shop' }, rc, '')).docs[0];
  assert.equal(((named.metadata as Obj).labels as Obj)['service.istio.io/canonical-name'], 'shop-1-abcde');
  // a CronJob's Job (name-<8 to 11 digits>) is attributed to the CronJob
  const job = inject(pod({}, { apiVersion: 'batch/v1', kind: 'Job', name: 'report-28910400', controller: true, uid: 'u2' }, 'report-28910400-')).docs[0];
  assert.equal(((job.metadata as Obj).labels as Obj)['service.istio.io/canonical-name'], 'report');
  assert.match(JSON.stringify(job), /kubernetes:\/\/apis\/batch\/v1\/namespaces\/store\/cronjobs\/report/);
});
