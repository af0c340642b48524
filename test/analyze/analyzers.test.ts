import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ANALYZERS, analyzeResources, applyDefaultNamespace } from '../../src/analyze/engine.js';
import { loadResources } from '../../src/resources/index.js';
import { runAnalyze } from './run.js';
import { scratchDir } from '../helpers.js';

// istioctl's analyzers, each run alone with --analyzer: every finding's level, code, resource,
// file:line and message, on our fixtures; and their near misses.
const C = 'fixtures/analyze/cases';
const S = 'fixtures/analyze/special';
const tmp = scratchDir('meshctl-analyzers-');

const CASES: { analyzer: string; file: string; expected: string[] }[] = [
  {
    analyzer: 'annotations.K8sAnalyzer',
    file: 'IST0108-service.bad.yaml',
    expected: [
      `Warning [IST0108] (Service default/ratings ${C}/IST0108-service.bad.yaml:7) Unknown annotation: networking.istio.io/exportToo`,
      `Warning [IST0108] (Service default/ratings ${C}/IST0108-service.bad.yaml:8) Unknown annotation: security.istio.io/bogus`,
    ],
  },
  {
    analyzer: 'webhook.Analyzer',
    file: 'IST0139-webhook.bad.yaml',
    expected: [
      `Error [IST0139] (MutatingWebhookConfiguration istio-sidecar-injector ${C}/IST0139-webhook.bad.yaml:7) Webhook overlaps with others: [istio-sidecar-injector-copy/namespace.sidecar-injector.istio.io]. This may cause injection to occur twice.`,
      `Error [IST0139] (MutatingWebhookConfiguration istio-sidecar-injector-copy ${C}/IST0139-webhook.bad.yaml:18) Webhook overlaps with others: [istio-sidecar-injector/namespace.sidecar-injector.istio.io]. This may cause injection to occur twice.`,
      `Error [IST0139] (MutatingWebhookConfiguration istio-sidecar-injector-copy ${C}/IST0139-webhook.bad.yaml:20) Injector refers to a control plane service that does not exist: istio-system/istiod-old.`,
      `Error [IST0139] (MutatingWebhookConfiguration istio-sidecar-injector-remote ${C}/IST0139-webhook.bad.yaml:33) Injector refers to a control plane service that does not exist: istio-control/istiod.`,
    ],
  },
  {
    analyzer: 'applicationUID.Analyzer',
    file: 'IST0144-uid.bad.yaml',
    expected: [
      `Warning [IST0144] (Deployment default/web ${C}/IST0144-uid.bad.yaml:26) User ID (UID) 1337 is reserved for the sidecar proxy.`,
      `Warning [IST0144] (Pod default/batch ${C}/IST0144-uid.bad.yaml:7) User ID (UID) 1337 is reserved for the sidecar proxy.`,
    ],
  },
  {
    analyzer: 'injection.ImageAutoAnalyzer',
    file: 'IST0146-imageauto.bad.yaml',
    expected: [
      `Warning [IST0146] (Deployment edge/edge-gateway ${C}/IST0146-imageauto.bad.yaml:32) Deployment edge-gateway contains \`image: auto\` but does not match any Istio injection webhook selectors.`,
      `Warning [IST0146] (Deployment elsewhere/other-gateway ${C}/IST0146-imageauto.bad.yaml:49) Deployment other-gateway contains \`image: auto\` but does not match any Istio injection webhook selectors.`,
    ],
  },
  {
    analyzer: 'injection.ImageAutoAnalyzer',
    file: 'IST0147-imageauto.bad.yaml',
    expected: [
      `Error [IST0147] (Pod default/gateway-7d9f ${C}/IST0147-imageauto.bad.yaml:9) Pod gateway-7d9f contains \`image: auto\` but does not match any Istio injection webhook selectors.`,
    ],
  },
  {
    analyzer: 'injection.Analyzer',
    file: 'IST0148-bydefault.bad.yaml',
    expected: [
      `Info [IST0148] (Namespace shop ${C}/IST0148-bydefault.bad.yaml:12) is enabled for Istio injection, as Istio is installed with enableNamespacesByDefault as true.`,
    ],
  },
  {
    analyzer: 'injection.ImageAnalyzer',
    file: 'IST0158-proxyimage.bad.yaml',
    expected: [
      `Warning [IST0158] (Namespace shop ${C}/IST0158-proxyimage.bad.yaml:12) The Istio proxy images of the pods running in the namespace do not match the image defined in the injection configuration (pod names: [cart-5f7c web-9c2d]). This often happens after upgrading the Istio control-plane and can be fixed by redeploying the pods.`,
    ],
  },
  {
    analyzer: 'externalcontrolplane.ExternalControlPlaneAnalyzer',
    file: 'IST0163-externalistiod.bad.yaml',
    expected: [
      `Warning [IST0163] (MutatingWebhookConfiguration istio-sidecar-injector-external-istiod ${C}/IST0163-externalistiod.bad.yaml:17) The hostname () that was provided for the webhook (rev.namespace.sidecar-injector.istio.io) to reach the ingress gateway on the external control plane cluster is blank. Traffic may not flow properly.`,
      `Warning [IST0163] (ValidatingWebhookConfiguration istio-validator-external-istiod ${C}/IST0163-externalistiod.bad.yaml:9) The hostname (https://:15017/validate) that was provided for the webhook (rev.validation.istio.io) to reach the ingress gateway on the external control plane cluster was provided in an invalid format. Traffic may not flow properly.`,
    ],
  },
  {
    analyzer: 'externalcontrolplane.ExternalControlPlaneAnalyzer',
    file: 'IST0164-externalistiod.bad.yaml',
    expected: [
      `Info [IST0164] (MutatingWebhookConfiguration istio-sidecar-injector-external-istiod ${C}/IST0164-externalistiod.bad.yaml:8) The address (https://203.0.113.7:15017/inject/cluster/remote1/net/network1) that was provided for the webhook (rev.namespace.sidecar-injector.istio.io) to reach the ingress gateway on the external control plane cluster is an IP address. This is not recommended for a production environment.`,
      `Info [IST0164] (MutatingWebhookConfiguration istio-sidecar-injector-external-istiod ${C}/IST0164-externalistiod.bad.yaml:13) The address (https://[2001:db8::7]:15017/inject/cluster/remote1/net/network1) that was provided for the webhook (rev.object.sidecar-injector.istio.io) to reach the ingress gateway on the external control plane cluster is an IP address. This is not recommended for a production environment.`,
    ],
  },
  {
    analyzer: 'conditions.ConditionAnalyzer',
    file: 'IST0171-conditions.bad.yaml',
    expected: [
      `Warning [IST0171] (AuthorizationPolicy default/reviews-viewers ${C}/IST0171-conditions.bad.yaml:29) A condition with a negative status is present: type=WaypointAccepted, reason=PartiallyInvalid, message=Invalid targetRefs: default/nope.`,
      `Warning [IST0171] (HTTPRoute default/reviews ${C}/IST0171-conditions.bad.yaml:53) A condition with a negative status is present: type=ResolvedRefs, reason=BackendNotFound, message=backend(reviews) not found.`,
      `Warning [IST0171] (Service default/reviews ${C}/IST0171-conditions.bad.yaml:11) A condition with a negative status is present: type=istio.io/WaypointBound, reason=WaypointNotFound, message=waypoint "default/waypoint" is not ready.`,
    ],
  },
  {
    analyzer: 'destinationrule.SubsetSelectPodAnalyzer',
    file: 'IST0173-topology.bad.yaml',
    expected: [
      `Error [IST0173] (DestinationRule default/httpbin ${C}/IST0173-topology.bad.yaml:38) The Subset west defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).`,
      `Error [IST0173] (DestinationRule default/httpbin ${C}/IST0173-topology.bad.yaml:40) The Subset no-zone defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).`,
    ],
  },
  {
    analyzer: 'destinationrule.SubsetSelectPodAnalyzer',
    file: 'IST0173-subsetpods.bad.yaml',
    expected: [
      `Error [IST0173] (DestinationRule default/ratings ${C}/IST0173-subsetpods.bad.yaml:53) The Subset v9 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).`,
      `Error [IST0173] (DestinationRule default/reviews ${C}/IST0173-subsetpods.bad.yaml:33) The Subset v2 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).`,
    ],
  },
  {
    analyzer: 'destinationrule.SubsetSelectPodAnalyzer',
    file: 'IST0174-drhost.bad.yaml',
    expected: [
      `Warning [IST0174] (DestinationRule default/api ${C}/IST0174-drhost.bad.yaml:32) The host api.example.com defined in the DestinationRule does not match any services in the mesh.`,
      `Warning [IST0174] (DestinationRule default/ledger ${C}/IST0174-drhost.bad.yaml:25) The host ledger.payments.svc.cluster.local defined in the DestinationRule does not match any services in the mesh.`,
      `Warning [IST0174] (DestinationRule default/ratings ${C}/IST0174-drhost.bad.yaml:14) The host ratings defined in the DestinationRule does not match any services in the mesh.`,
    ],
  },
  {
    analyzer: 'authn.BlockedCIDRsAnalyzer',
    file: 'IST0175-jwks.bad.yaml',
    expected: [
      `Warning [IST0175] (Deployment istio-system/istiod ${C}/IST0175-jwks.bad.yaml:13) BLOCKED_CIDRS_IN_JWKS_URIS is not configured but 1 RequestAuthentication resource(s) exist (shop/jwt). Consider configuring it to restrict JWKS URI fetches to trusted networks.`,
    ],
  },
  {
    analyzer: 'serviceentry.ConflictingServiceEntryProtocolAnalyzer',
    file: 'IST0177-seprotocol.bad.yaml',
    expected: [
      `Warning [IST0177] (ServiceEntry payments/api-tcp ${C}/IST0177-seprotocol.bad.yaml:16) Multiple ServiceEntries (payments/api-tcp, shop/api-http) define the same host "api.example.com" and port 8080 with conflicting protocols (HTTP, TCP).`,
      `Warning [IST0177] (ServiceEntry shop/api-http ${C}/IST0177-seprotocol.bad.yaml:4) Multiple ServiceEntries (payments/api-tcp, shop/api-http) define the same host "api.example.com" and port 8080 with conflicting protocols (HTTP, TCP).`,
    ],
  },
  {
    analyzer: 'serviceentry.Analyzer',
    file: 'IST0134-seaddresses.bad.yaml',
    expected: [
      `Warning [IST0134] (ServiceEntry default/redis ${C}/IST0134-seaddresses.bad.yaml:10) ServiceEntry addresses are required for this protocol.`,
    ],
  },
];

for (const c of CASES) {
  test(`${c.analyzer} on ${c.file}`, async () => {
    const r = await runAnalyze([`${C}/${c.file}`], { analyzer: [c.analyzer] });
    assert.deepEqual(r.lines, c.expected, r.stderr);
    assert.equal(r.code, c.expected.some((l) => l.startsWith('Error')) ? 79 : 0);
  });
  const ok = c.file.replace('.bad.yaml', '.ok.yaml');
  const codes = ANALYZERS.find((a) => a.name === c.analyzer)!.codes;
  const code = c.file.slice(0, 7);
  test(`${c.analyzer} on ${ok} (near miss): no ${code}`, async () => {
    const r = await runAnalyze([`${C}/${ok}`], { analyzer: [c.analyzer] });
    assert.ok(codes.includes(code));
    assert.deepEqual(r.lines.filter((l) => l.includes(`[${code}]`)), []);
  });
}

test('-L lists each analyzer under its istioctl name with its codes; the opt-in one says so', async () => {
  const r = await runAnalyze([], { listAnalyzers: true });
  for (const [name, codes] of [
    ['annotations.AlphaAnalyzer', 'IST0136'], ['applicationUID.Analyzer', 'IST0144'], ['authn.BlockedCIDRsAnalyzer', 'IST0175'],
    ['conditions.ConditionAnalyzer', 'IST0171'], ['destinationrule.SubsetSelectPodAnalyzer', 'IST0173, IST0174'],
    ['externalcontrolplane.ExternalControlPlaneAnalyzer', 'IST0163, IST0164'], ['injection.Analyzer', 'IST0102, IST0103, IST0123, IST0148'],
    ['injection.ImageAnalyzer', 'IST0158'], ['injection.ImageAutoAnalyzer', 'IST0146, IST0147'], ['meshnetworks.MeshNetworksAnalyzer', 'IST0126'],
    ['serviceentry.ConflictingServiceEntryProtocolAnalyzer', 'IST0177'], ['services.MultiClusterServiceAnalyzer', 'IST0170'], ['webhook.Analyzer', 'IST0139'],
  ]) {
    assert.ok(r.stdout.includes(`* ${name} [${codes}]:\n`), name);
  }
  assert.match(r.stdout, /\* annotations\.AlphaAnalyzer \[IST0136\]:\n {4}Checks for alpha Istio annotations in Kubernetes resources\n {4}\(not run by default/);
  assert.ok(!/PodNotSelectedAnalyzer|UnknownHostAnalyzer/.test(r.stdout), 'the old names are gone');
});

test('annotations.AlphaAnalyzer runs only when named, as in istioctl', async () => {
  const files = [`${S}/alpha.bad.yaml`, `${S}/alpha.ok.yaml`];
  assert.deepEqual((await runAnalyze(files)).lines.filter((l) => l.includes('IST0136')), []);
  const r = await runAnalyze(files, { analyzer: ['annotations.AlphaAnalyzer'] });
  assert.deepEqual(r.lines, [
    `Info [IST0136] (Deployment default/ratings ${S}/alpha.bad.yaml:23) Annotation "sidecar.istio.io/proxyCPU" is part of an alpha-phase feature and may be incompletely supported.`,
    `Info [IST0136] (Service default/ratings ${S}/alpha.bad.yaml:6) Annotation "networking.istio.io/exportTo" is part of an alpha-phase feature and may be incompletely supported.`,
  ]);
  assert.equal(r.code, 0);
});

test('--meshNetworksFile: registries that are neither built in nor a remote secret\'s cluster (file or istio ConfigMap)', async () => {
  const secret = `${S}/remote-secret.yaml`;
  const plain = await runAnalyze([secret], { meshNetworksFile: `${S}/meshnetworks.bad.yaml`, analyzer: ['meshnetworks.MeshNetworksAnalyzer'] });
  assert.deepEqual(plain.lines, [
    `Error [IST0126] (MeshNetworks istio-system/meshnetworks ${S}/meshnetworks.bad.yaml:11) Unknown service registry west in network network2`,
  ]);
  assert.equal(plain.code, 79);
  // without the remote secret, `east` is unknown too
  const alone = await runAnalyze([`${S}/alpha.ok.yaml`], { meshNetworksFile: `${S}/meshnetworks.bad.yaml`, output: 'json' });
  assert.deepEqual((JSON.parse(alone.stdout) as { message: string }[]).map((d) => d.message), [
    'Unknown service registry east in network network1',
    'Unknown service registry west in network network2',
  ]);
  const cm = await runAnalyze([secret], { meshNetworksFile: `${S}/meshnetworks-configmap.bad.yaml` });
  assert.deepEqual(cm.lines, [
    `Error [IST0126] (MeshNetworks istio-system/meshnetworks ${S}/meshnetworks-configmap.bad.yaml:14) Unknown service registry Kubernets in network network1`,
  ]);
  assert.deepEqual((await runAnalyze([secret], { meshNetworksFile: `${S}/meshnetworks.ok.yaml` })).lines, []);
  const suppressed = await runAnalyze([secret], { meshNetworksFile: `${S}/meshnetworks.bad.yaml`, suppress: ['IST0126=MeshNetworks istio-system/meshnetworks'] });
  assert.equal(suppressed.code, 0);
  assert.deepEqual(suppressed.lines, []);
  const broken = path.join(tmp, 'networks.yaml');
  writeFileSync(broken, 'networks: [a, b]\n');
  const bad = await runAnalyze([secret], { meshNetworksFile: broken });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /networks\.yaml: not a valid mesh networks config: expected a mapping with a networks mapping/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

test('--remote-files: a Service defined differently in another cluster (type, ports, headless)', async () => {
  const local = `${S}/multicluster/local.yaml`;
  const opts = { remoteFiles: [`east=${S}/multicluster/east.yaml`, `west=${S}/multicluster/west.yaml`] };
  const r = await runAnalyze([local], { ...opts, analyzer: ['services.MultiClusterServiceAnalyzer'] });
  assert.deepEqual(r.lines, [
    `Warning [IST0170] (Service shop/cache ${local}:24) The service cache in namespace "shop" is inconsistent across clusters ["east" "local"], which can lead to undefined behaviors. The inconsistent behaviors are: service has mixed mode like headless and clusterIP.`,
    `Warning [IST0170] (Service shop/reviews ${local}:4) The service reviews in namespace "shop" is inconsistent across clusters ["east" "local"], which can lead to undefined behaviors. The inconsistent behaviors are: service ports are inconsistent; service type is inconsistent.`,
  ]);
  // one cluster alone: nothing to compare
  assert.deepEqual((await runAnalyze([local], { analyzer: ['services.MultiClusterServiceAnalyzer'] })).lines, []);
  const suppressed = await runAnalyze([local], { ...opts, suppress: ['IST0170=Service shop/*'], analyzer: ['services.MultiClusterServiceAnalyzer'] });
  assert.deepEqual(suppressed.lines, []);
  const usage = await runAnalyze([local], { remoteFiles: ['east'] });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /invalid --remote-files "east": use CLUSTER=PATH/);
});

test('--meshConfigFile: ServiceEntry addresses are auto-allocated only with DNS capture on, as istioctl decides', async () => {
  const se = `${C}/IST0134-seaddresses.bad.yaml`;
  const mesh = (meta: string) => {
    const f = path.join(tmp, `mesh-${meta.length}.yaml`);
    writeFileSync(f, `defaultConfig:\n  proxyMetadata:\n${meta}`);
    return f;
  };
  const codes = async (file: string) => (await runAnalyze([se], { meshConfigFile: file, analyzer: ['serviceentry.Analyzer'] })).lines;
  const finding = `Warning [IST0134] (ServiceEntry default/redis ${se}:10) ServiceEntry addresses are required for this protocol.`;
  assert.deepEqual(await codes(mesh('    ISTIO_META_DNS_AUTO_ALLOCATE: "true"\n')), [finding]);
  assert.deepEqual(await codes(mesh('    ISTIO_META_DNS_CAPTURE: "true"\n')), [finding]);
  assert.deepEqual(await codes(mesh('    ISTIO_META_DNS_CAPTURE: "true"\n    PILOT_ENABLE_IP_AUTOALLOCATE: "true"\n')), []);
});

test('--meshConfigFile: the mesh-wide proxy image type is an accepted variant of the injector image', async () => {
  const file = path.join(tmp, 'distroless.yaml');
  writeFileSync(file, [
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio-sidecar-injector, namespace: istio-system}',
    'data:\n  values: \'{"global":{"hub":"docker.io/istio","tag":"1.24.2","proxy":{"image":"proxyv2"}}}\'',
    '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio-injection: enabled}}',
    '---\napiVersion: v1\nkind: Pod\nmetadata: {name: cart, namespace: shop}\nspec:\n  containers:\n  - {name: istio-proxy, image: docker.io/istio/proxyv2:1.24.2-distroless}',
  ].join('\n'));
  const mesh = path.join(tmp, 'mesh-distroless.yaml');
  writeFileSync(mesh, 'defaultConfig:\n  image:\n    imageType: distroless\n');
  const without = await runAnalyze([file], { analyzer: ['injection.ImageAnalyzer'] });
  assert.match(without.lines.join('\n'), /^Warning \[IST0158\] \(Namespace shop .*\(pod names: \[cart\]\)/);
  assert.deepEqual((await runAnalyze([file], { analyzer: ['injection.ImageAnalyzer'], meshConfigFile: mesh })).lines, []);
});

test('externalcontrolplane: a webhook host that does not resolve, or resolves to nothing (lookups made once per host)', async () => {
  const { resources } = await loadResources([`${C}/IST0164-externalistiod.ok.yaml`]);
  const doc = resources[0].object as { webhooks: { clientConfig: { url: string } }[] };
  doc.webhooks[0].clientConfig.url = 'https://istiod.gone.example:15017/inject';
  const extra = structuredClone(resources[0]);
  extra.name = 'istio-sidecar-injector-other';
  (extra.object as typeof doc).webhooks[0].clientConfig.url = 'https://istiod.empty.example:15017/inject';
  const twice = structuredClone(extra);
  twice.name = 'istio-sidecar-injector-third';
  applyDefaultNamespace(resources, 'default');
  const asked: string[] = [];
  const lookupHost = async (host: string) => {
    asked.push(host);
    if (host === 'istiod.gone.example') throw new Error('ENOTFOUND');
    return [];
  };
  const ds = await analyzeResources([...resources, extra, twice], { analyzers: ['externalcontrolplane.ExternalControlPlaneAnalyzer'], lookupHost });
  assert.deepEqual(ds.map((d) => `${d.type.code} ${d.resource?.name}: ${d.message}`), [
    'IST0163 istio-sidecar-injector-external-istiod: The hostname (https://istiod.gone.example:15017/inject) that was provided for the webhook (rev.namespace.sidecar-injector.istio.io) to reach the ingress gateway on the external control plane cluster cannot be resolved via a DNS lookup. Traffic may not flow properly.',
    'IST0163 istio-sidecar-injector-other: The hostname (https://istiod.empty.example:15017/inject) that was provided for the webhook (rev.namespace.sidecar-injector.istio.io) to reach the ingress gateway on the external control plane cluster resolves with zero IP addresses. Traffic may not flow properly.',
    'IST0163 istio-sidecar-injector-third: The hostname (https://istiod.empty.example:15017/inject) that was provided for the webhook (rev.namespace.sidecar-injector.istio.io) to reach the ingress gateway on the external control plane cluster resolves with zero IP addresses. Traffic may not flow properly.',
  ]);
  assert.deepEqual(asked.sort(), ['istiod.empty.example', 'istiod.gone.example']);
});

test('the suppress annotation and -S work on the new analyzers', async () => {
  const file = path.join(tmp, 'uid.yaml');
  writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: batch\n  annotations: {galley.istio.io/analyze-suppress: IST0144}\nspec:\n  securityContext: {runAsUser: 1337}\n  containers:\n  - {name: b, image: b}\n');
  assert.deepEqual((await runAnalyze([file], { analyzer: ['applicationUID.Analyzer'] })).lines, []);
  const r = await runAnalyze([`${C}/IST0177-seprotocol.bad.yaml`], { suppress: ['IST0177=ServiceEntry shop/*'], analyzer: ['serviceentry.ConflictingServiceEntryProtocolAnalyzer'] });
  assert.deepEqual(r.lines.map((l) => l.slice(0, l.indexOf(' ', l.indexOf('(') + 20))), ['Warning [IST0177] (ServiceEntry payments/api-tcp']);
});

test('the CLI passes --meshNetworksFile, --remote-files and repeated --analyzer through', async () => {
  const { runCli } = await import('../helpers.js');
  const r = await runCli([
    'analyze', `${S}/multicluster/local.yaml`, `${S}/remote-secret.yaml`, '--meshNetworksFile', `${S}/meshnetworks.bad.yaml`,
    '--remote-files', `east=${S}/multicluster/east.yaml`, '--analyzer', 'meshnetworks.MeshNetworksAnalyzer', '--analyzer', 'services.MultiClusterServiceAnalyzer',
    '--no-color',
  ]);
  assert.equal(r.code, 79, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.slice(0, l.indexOf(' ', l.indexOf('(') + 1))), [
    'Error [IST0126] (MeshNetworks',
    'Warning [IST0170] (Service',
    'Warning [IST0170] (Service',
  ]);
});
