import assert from 'node:assert/strict';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { type Obj, argOf, container, deployment, env, initArgs, inject, podTemplate, uninject } from './util.js';

test('sidecar.istio.io/inject "false" (annotation or label) skips the workload with a note; the label wins', () => {
  for (const opts of [{ annotations: { 'sidecar.istio.io/inject': 'false' } }, { labels: { 'sidecar.istio.io/inject': 'false' } }]) {
    const text = deployment(opts);
    const r = inject(text);
    assert.equal(r.changed, 0);
    assert.equal(r.text, text, 'a skipped workload is passed through byte for byte');
    assert.match(r.notes[0], /test\.yaml: document 1 \(Deployment "shop\/api"\): not injected: sidecar\.istio\.io\/inject/);
  }
  const r = inject(deployment({ annotations: { 'sidecar.istio.io/inject': 'false' }, labels: { 'sidecar.istio.io/inject': 'true' } }));
  assert.equal(r.changed, 1);
});

test('sidecar.istio.io/proxyImage replaces the image of istio-init and istio-proxy', () => {
  const r = inject(deployment({ annotations: { 'sidecar.istio.io/proxyImage': 'mirror.example/istio/proxyv2:1.27.1' } }));
  assert.equal(container(r.docs[0], 'istio-proxy').image, 'mirror.example/istio/proxyv2:1.27.1');
  assert.equal(container(r.docs[0], 'istio-init').image, 'mirror.example/istio/proxyv2:1.27.1');
  const plain = inject(deployment(), {}, { hub: 'h.example/istio', tag: '9.9' });
  assert.equal(container(plain.docs[0], 'istio-proxy').image, 'h.example/istio/proxyv2:9.9');
});

test('proxyCPU, proxyMemory and their limits set the proxy resources, in canonical quantities', () => {
  const r = inject(deployment({ annotations: { 'sidecar.istio.io/proxyCPU': '0.25', 'sidecar.istio.io/proxyMemory': '256Mi' } }));
  assert.deepEqual(container(r.docs[0], 'istio-proxy').resources, { requests: { cpu: '250m', memory: '256Mi' } });
  const l = inject(deployment({ annotations: { 'sidecar.istio.io/proxyCPULimit': '1000m', 'sidecar.istio.io/proxyMemoryLimit': '2048Mi' } }));
  assert.deepEqual(container(l.docs[0], 'istio-proxy').resources, { limits: { cpu: '1', memory: '2Gi' } });
  assert.deepEqual(container(l.docs[0], 'istio-init').resources, { limits: { cpu: '1', memory: '2Gi' } });
  const d = inject(deployment());
  assert.deepEqual(container(d.docs[0], 'istio-proxy').resources, { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } });
});

test('sidecar.istio.io/interceptionMode TPROXY: -m TPROXY, NET_ADMIN and root for the proxy; NONE: no istio-init', () => {
  const r = inject(deployment({ annotations: { 'sidecar.istio.io/interceptionMode': 'TPROXY' } }));
  const doc = r.docs[0];
  assert.equal(argOf(initArgs(doc), '-m'), 'TPROXY');
  assert.equal(env(doc, 'ISTIO_META_INTERCEPTION_MODE'), 'TPROXY');
  const sc = container(doc, 'istio-proxy').securityContext as Record<string, unknown>;
  assert.deepEqual(sc.capabilities, { add: ['NET_ADMIN'], drop: ['ALL'] });
  assert.equal(sc.runAsUser, 0);
  assert.equal(sc.runAsNonRoot, false);
  const none = inject(deployment({ annotations: { 'sidecar.istio.io/interceptionMode': 'NONE' } })).docs[0];
  const names = (podTemplate(none).spec.initContainers as { name: string }[]).map((c) => c.name);
  assert.deepEqual(names, ['istio-proxy']);
});

test('include/excludeOutboundIPRanges become istio-init -i and -x', () => {
  const r = inject(
    deployment({
      annotations: {
        'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8,172.16.0.0/12',
        'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.96.0.1/32',
      },
    }),
  );
  const args = initArgs(r.docs[0]);
  assert.equal(argOf(args, '-i'), '10.0.0.0/8,172.16.0.0/12');
  assert.equal(argOf(args, '-x'), '10.96.0.1/32');
});

test('include/excludeInboundPorts become -b and -d (the status port is always excluded)', () => {
  const r = inject(deployment({ annotations: { 'traffic.sidecar.istio.io/includeInboundPorts': '8080,9090' } }));
  assert.equal(argOf(initArgs(r.docs[0]), '-b'), '8080,9090');
  const e = inject(deployment({ annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9000, 9001' } }));
  assert.equal(argOf(initArgs(e.docs[0]), '-d'), '15090,15021,9000,9001,15020');
  const already = inject(deployment({ annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '15020,9000' } }));
  assert.equal(argOf(initArgs(already.docs[0]), '-d'), '15090,15021,15020,9000');
});

test('exclude/includeOutboundPorts add -o and -q only when set', () => {
  const plain = initArgs(inject(deployment()).docs[0]);
  assert.equal(argOf(plain, '-o'), undefined);
  assert.equal(argOf(plain, '-q'), undefined);
  const r = inject(
    deployment({ annotations: { 'traffic.sidecar.istio.io/excludeOutboundPorts': '3306', 'traffic.sidecar.istio.io/includeOutboundPorts': '443' } }),
  );
  const args = initArgs(r.docs[0]);
  assert.equal(argOf(args, '-o'), '3306');
  assert.equal(argOf(args, '-q'), '443');
  assert.equal(args[args.length - 1], '--log_output_level=default:info');
});

test('proxy.istio.io/config lands in PROXY_CONFIG, and its proxyMetadata in the env', () => {
  const r = inject(deployment({ annotations: { 'proxy.istio.io/config': 'concurrency: 2\nproxyMetadata:\n  ISTIO_META_DNS_AUTO_ALLOCATE: "true"\n' } }));
  const doc = r.docs[0];
  assert.deepEqual(JSON.parse(env(doc, 'PROXY_CONFIG')!), { concurrency: 2, proxyMetadata: { ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } });
  assert.equal(env(doc, 'ISTIO_META_DNS_AUTO_ALLOCATE'), 'true');
  // the agent reads concurrency from PROXY_CONFIG; no extra argument
  assert.equal(argOf(container(doc, 'istio-proxy').args as string[], '--concurrency'), undefined);
  assert.equal(env(inject(deployment()).docs[0], 'PROXY_CONFIG'), '{}\n');
});

test('probes are rewritten to /app-health/<container>/... on 15020 with ISTIO_KUBE_APP_PROBERS; rewriteAppHTTPProbers "false" keeps them', () => {
  const probes = {
    readinessProbe: { httpGet: { path: '/ready', port: 'http', scheme: 'HTTPS' }, timeoutSeconds: 4 },
    livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 20 },
    startupProbe: { grpc: { port: 8080 } },
  };
  const doc = inject(deployment({ container: probes })).docs[0];
  const app = container(doc, 'api');
  assert.deepEqual(app.readinessProbe, { httpGet: { path: '/app-health/api/readyz', port: 15020, scheme: 'HTTP' }, timeoutSeconds: 4 });
  assert.deepEqual(app.livenessProbe, { periodSeconds: 20, httpGet: { path: '/app-health/api/livez', port: 15020 } });
  assert.deepEqual(app.startupProbe, { httpGet: { path: '/app-health/api/startupz', port: 15020 } });
  assert.deepEqual(JSON.parse(env(doc, 'ISTIO_KUBE_APP_PROBERS')!), {
    '/app-health/api/livez': { tcpSocket: { port: 8080 } },
    '/app-health/api/readyz': { httpGet: { path: '/ready', port: 8080, scheme: 'HTTPS' }, timeoutSeconds: 4 },
    '/app-health/api/startupz': { grpc: { port: 8080 } },
  });
  const off = inject(deployment({ container: probes, annotations: { 'sidecar.istio.io/rewriteAppHTTPProbers': 'false' } })).docs[0];
  assert.deepEqual(container(off, 'api').readinessProbe, probes.readinessProbe);
  assert.equal(env(off, 'ISTIO_KUBE_APP_PROBERS'), undefined);
  const custom = inject(deployment({ container: probes, annotations: { 'status.sidecar.istio.io/port': '15999' } })).docs[0];
  assert.equal((container(custom, 'api').readinessProbe as { httpGet: { port: number } }).httpGet.port, 15999);
});

test('hostNetwork workloads are passed through untouched, with a note', () => {
  const text = deployment({ spec: { hostNetwork: true } });
  const r = inject(text);
  assert.equal(r.text, text);
  assert.match(r.notes[0], /host networking/);
});

test('an already injected workload is left exactly as it is, with a note', () => {
  const once = inject(deployment()).text;
  const twice = inject(once);
  assert.equal(twice.text, once);
  assert.equal(twice.changed, 0);
  assert.match(twice.notes[0], /already injected/);
});

test('prometheus.io annotations move to ISTIO_PROMETHEUS_ANNOTATIONS; merge-metrics "false" leaves them', () => {
  const ann = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/m' };
  const doc = inject(deployment({ annotations: ann })).docs[0];
  const a = podTemplate(doc).metadata.annotations as Record<string, string>;
  assert.equal(a['prometheus.io/port'], '15020');
  assert.equal(a['prometheus.io/path'], '/stats/prometheus');
  assert.deepEqual(JSON.parse(env(doc, 'ISTIO_PROMETHEUS_ANNOTATIONS')!), { scrape: 'true', path: '/m', port: '9102' });
  const off = inject(deployment({ annotations: { ...ann, 'prometheus.istio.io/merge-metrics': 'false' } })).docs[0];
  assert.equal((podTemplate(off).metadata.annotations as Record<string, string>)['prometheus.io/port'], '9102');
  const noScrape = inject(deployment({ annotations: { 'prometheus.io/scrape': 'false' } })).docs[0];
  assert.equal((podTemplate(noScrape).metadata.annotations as Record<string, string>)['prometheus.io/port'], undefined);
});

test('logLevel, componentLogLevel and agentLogLevel reach the proxy and istio-init args', () => {
  const doc = inject(
    deployment({
      annotations: {
        'sidecar.istio.io/logLevel': 'debug',
        'sidecar.istio.io/componentLogLevel': 'upstream:debug',
        'sidecar.istio.io/agentLogLevel': 'default:debug',
      },
    }),
  ).docs[0];
  const args = container(doc, 'istio-proxy').args as string[];
  assert.ok(args.includes('--proxyLogLevel=debug'));
  assert.ok(args.includes('--proxyComponentLogLevel=upstream:debug'));
  assert.ok(args.includes('--log_output_level=default:debug'));
  assert.ok(initArgs(doc).includes('--log_output_level=default:debug'));
});

test('a user-set default-container is kept; readiness annotations tune the proxy probe', () => {
  const doc = inject(
    deployment({
      annotations: { 'kubectl.kubernetes.io/default-container': 'other', 'readiness.status.sidecar.istio.io/periodSeconds': '30' },
    }),
  ).docs[0];
  const a = podTemplate(doc).metadata.annotations as Record<string, string>;
  assert.equal(a['kubectl.kubernetes.io/default-container'], 'other');
  assert.equal(a['kubectl.kubernetes.io/default-logs-container'], 'api');
  assert.equal((container(doc, 'istio-proxy').readinessProbe as { periodSeconds: number }).periodSeconds, 30);
});

test('userVolume and userVolumeMount add volumes and mounts to the proxy', () => {
  const doc = inject(
    deployment({
      annotations: {
        'sidecar.istio.io/userVolume': '{"certs":{"secret":{"secretName":"api-certs"}}}',
        'sidecar.istio.io/userVolumeMount': '{"certs":{"mountPath":"/etc/certs","readOnly":true}}',
      },
    }),
  ).docs[0];
  const vols = podTemplate(doc).spec.volumes as { name: string }[];
  assert.deepEqual(vols.at(-1), { name: 'certs', secret: { secretName: 'api-certs' } });
  const mounts = container(doc, 'istio-proxy').volumeMounts as object[];
  assert.deepEqual(mounts.at(-1), { name: 'certs', mountPath: '/etc/certs', readOnly: true });
});

test('canonical labels come from the pod labels, then the workload name; user values are kept', () => {
  const d = inject(deployment({ labels: { 'app.kubernetes.io/name': 'api-svc', version: 'v7' } })).docs[0];
  const l = podTemplate(d).metadata.labels as Record<string, string>;
  assert.equal(l['service.istio.io/canonical-name'], 'api-svc');
  assert.equal(l['service.istio.io/canonical-revision'], 'v7');
  const u = inject(deployment({ labels: { 'service.istio.io/canonical-name': 'mine', 'security.istio.io/tlsMode': 'disabled' } })).docs[0];
  const ul = podTemplate(u).metadata.labels as Record<string, string>;
  assert.equal(ul['service.istio.io/canonical-name'], 'mine');
  assert.equal(ul['security.istio.io/tlsMode'], 'disabled');
});

test('an invalid annotation is one clear error naming the document and the annotation', () => {
  for (const [name, value] of [
    ['sidecar.istio.io/interceptionMode', 'MAGIC'],
    ['traffic.sidecar.istio.io/excludeInboundPorts', '80,http'],
    ['traffic.sidecar.istio.io/includeOutboundIPRanges', '10.0.0.0'],
    ['sidecar.istio.io/proxyCPU', 'lots'],
    ['proxy.istio.io/config', '[1, 2]'],
  ]) {
    assert.throws(
      () => inject(deployment({ annotations: { [name]: value } })),
      (err: Error) => err.message.startsWith(`test.yaml: document 1 (Deployment "shop/api"): annotation ${name}:`),
      name,
    );
  }
});

test('sidecar.istio.io/nativeSidecar "false" gives the classic layout: proxy in containers, istio-init last', () => {
  const doc = inject(deployment({ annotations: { 'sidecar.istio.io/nativeSidecar': 'false' }, spec: { initContainers: [{ name: 'setup', image: 's:1' }] } })).docs[0];
  const spec = podTemplate(doc).spec as { initContainers: Obj[]; containers: Obj[] };
  assert.deepEqual(spec.initContainers.map((c) => c.name), ['setup', 'istio-init']);
  assert.deepEqual(spec.containers.map((c) => c.name), ['api', 'istio-proxy']);
  assert.equal(spec.containers[1].restartPolicy, undefined);
  assert.equal(spec.containers[1].lifecycle, undefined);
  const status = JSON.parse((podTemplate(doc).metadata.annotations as Record<string, string>)['sidecar.istio.io/status']);
  assert.deepEqual([status.initContainers, status.containers], [['istio-init'], ['istio-proxy']]);
  // holding the app until the proxy is ready: proxy first, with the pilot-agent wait hook
  const hold = inject(
    deployment({ annotations: { 'sidecar.istio.io/nativeSidecar': 'false', 'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts": true}' } }),
  ).docs[0];
  const hc = podTemplate(hold).spec.containers as Obj[];
  assert.deepEqual(hc.map((c) => c.name), ['istio-proxy', 'api']);
  assert.deepEqual(hc[0].lifecycle, { postStart: { exec: { command: ['pilot-agent', 'wait'] } } });
});

test('an istio-proxy container in the manifest customises the injected one and comes back on uninject', () => {
  const text = deployment({
    spec: {
      containers: [
        { name: 'api', image: 'api:1' },
        { name: 'istio-proxy', image: 'auto', resources: { limits: { memory: '2Gi' } }, securityContext: { runAsUser: 1500 }, env: [{ name: 'EXTRA', value: '1' }] },
      ],
    },
  });
  const r = inject(text);
  const doc = r.docs[0];
  const spec = podTemplate(doc).spec as { initContainers: Obj[]; containers: Obj[] };
  assert.deepEqual(spec.containers.map((c) => c.name), ['api']);
  const proxy = container(doc, 'istio-proxy');
  assert.equal(proxy.image, 'docker.io/istio/proxyv2:1.28.0');
  assert.equal((proxy.resources as { limits: Obj }).limits.memory, '2Gi');
  assert.equal((proxy.securityContext as Obj).runAsUser, 1500);
  assert.equal(env(doc, 'EXTRA'), '1');
  assert.equal(argOf(initArgs(doc), '-u'), '1500');
  // with native sidecars Istio keeps the customisation under initContainers, and uninject puts it there
  const expected = yaml.load(text) as Obj;
  const tpl = podTemplate(expected).spec as { initContainers?: Obj[]; containers: Obj[] };
  tpl.initContainers = [tpl.containers.pop()!];
  assert.deepEqual(uninject(r.text).docs[0], expected);
  const classic = deployment({ annotations: { 'sidecar.istio.io/nativeSidecar': 'false' }, spec: podTemplate(yaml.load(text) as Obj).spec });
  assert.deepEqual(uninject(inject(classic).text).docs[0], yaml.load(classic));
});

test('-n gives the owner a namespace when the manifest names none', () => {
  const doc = inject(deployment().replace('namespace: shop', 'labels: {}'), {}, { namespace: 'payments' }).docs[0];
  assert.match(JSON.stringify(doc), /kubernetes:\/\/apis\/apps\/v1\/namespaces\/payments\/deployments\/api/);
});

test('with istio_cni enabled, istio-validation replaces istio-init and the traffic annotations are recorded for the CNI plugin', () => {
  const doc = inject(deployment({ annotations: { 'traffic.sidecar.istio.io/excludeOutboundPorts': '25' } }), { values: { istio_cni: { enabled: true } } }).docs[0];
  const init = container(doc, 'istio-validation');
  assert.deepEqual((init.args as string[]).slice(-2), ['--run-validation', '--skip-rule-apply']);
  assert.equal((init.securityContext as Obj).runAsUser, 1337);
  const a = podTemplate(doc).metadata.annotations as Record<string, string>;
  assert.equal(a['sidecar.istio.io/interceptionMode'], 'REDIRECT');
  assert.equal(a['traffic.sidecar.istio.io/excludeInboundPorts'], '15020');
  assert.equal(a['traffic.sidecar.istio.io/excludeOutboundPorts'], '25');
  assert.equal(a['traffic.sidecar.istio.io/includeOutboundIPRanges'], '*');
  const original = deployment({ annotations: { 'traffic.sidecar.istio.io/excludeOutboundPorts': '25' } });
  const back = uninject(inject(original, { values: { istio_cni: { enabled: true } } }).text).docs[0];
  assert.deepEqual(back, yaml.load(original));
});

test("the probers' JSON is written as Go writes it (&, < and > escaped), and uninject reads it back", () => {
  const probe = { readinessProbe: { httpGet: { path: '/health?full=1&fast=0', port: 8080 } } };
  const r = inject(deployment({ container: probe }));
  assert.equal(env(r.docs[0], 'ISTIO_KUBE_APP_PROBERS'), '{"/app-health/api/readyz":{"httpGet":{"path":"/health?full=1\\u0026fast=0","port":8080}}}');
  assert.deepEqual(container(uninject(r.text).docs[0], 'api').readinessProbe, probe.readinessProbe);
});

test('a statusPort set through proxy.istio.io/config moves the rewritten probes and the prometheus port', () => {
  const doc = inject(
    deployment({
      annotations: { 'proxy.istio.io/config': 'statusPort: 15999', 'prometheus.io/port': '9102' },
      container: { readinessProbe: { httpGet: { path: '/ready', port: 8080 } } },
    }),
  ).docs[0];
  assert.equal((container(doc, 'api').readinessProbe as { httpGet: { port: number } }).httpGet.port, 15999);
  assert.equal((podTemplate(doc).metadata.annotations as Record<string, string>)['prometheus.io/port'], '15999');
});
