import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, isOneLineError, runCli, scratchDir } from '../helpers.js';

const BOOKINFO = fixture('describe', 'bookinfo');
const PRODUCTPAGE = 'productpage-v1-7d4b8d9b7c-x2x9z';

test('describe pod: pod, service, DestinationRule, gateway VirtualService, mTLS and authorization blocks', async () => {
  const r = await runCli(['describe', 'pod', PRODUCTPAGE, '--files', BOOKINFO]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^Pod: productpage-v1-7d4b8d9b7c-x2x9z\n   Pod Revision: default\n   Pod Ports: 9080 \(productpage\), 15090 \(istio-proxy\)\n/);
  assert.match(out, /   Sidecar: injected, ready, proxy version 1\.24\.0, istiod istiod\.istio-system\.svc:15012\n/);
  assert.match(out, /\nService: productpage\n   Port: http 9080\/HTTP targets pod port 9080\n/);
  assert.match(out, /\nDestinationRule: productpage for "productpage"\n   Matching subsets: v1\n   Traffic Policy TLS Mode: ISTIO_MUTUAL\n/);
  assert.match(out, /\nVirtualService: bookinfo\n   Gateways: bookinfo-gateway\n   Route to host "productpage" with weight 100%\n   Match: \/productpage, Match: \/static\*, Match: \/login/);
  assert.match(out, /\nEffective PeerAuthentication:\n   Workload mTLS mode: STRICT \(mesh level\)\nApplied PeerAuthentication:\n   default\.istio-system\n/);
  assert.match(out, /\nAuthorizationPolicies: 1 ALLOW, 1 DENY, 0 CUSTOM, 0 AUDIT\n   DENY deny-delete\.default \(namespace, 1 rule\)\n   ALLOW productpage-viewer\.default \(workload, 1 rule\)\n/);
  assert.match(out, /\nExposed on Ingress Gateway http:\/\/1\.2\.3\.4\nGateway: default\/bookinfo-gateway \(service istio-ingressgateway\.istio-system\) via VirtualService bookinfo\n/);
  assert.doesNotMatch(out, /WARNING/);
  assert.doesNotMatch(out, /\x1b\[/, 'no colour when not a terminal');
});

test('describe pod: subsets, weights, traffic policy details and port-level settings', async () => {
  const r = await runCli(['describe', 'pod', 'reviews-v1-8b4c7d8d5-5kq2r.default', '--files', BOOKINFO]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /DestinationRule: reviews for "reviews"\n   Matching subsets: v1\n      \(Non-matching subsets v2,v3\)\n   Traffic Policy TLS Mode: ISTIO_MUTUAL\n   Policies: load balancer\/connection pool\/outlier detection\n      Load balancer: LEAST_REQUEST\n      Connection pool: tcp\.maxConnections=100, http\.http1MaxPendingRequests=10\n      Outlier detection: consecutive5xxErrors=5, interval=10s, baseEjectionTime=30s\n   Port Level Settings:\n    9080:\n      Policies: load balancer\n         Load balancer: ROUND_ROBIN\n/,
  );
  assert.match(r.stdout, /VirtualService: reviews\n   Route to host "reviews" subset "v1" with weight 80%\n   1 additional destination\(s\) that will not reach this pod\n/);
});

test('describe pod: a pod matching no subset, and a route to an undefined subset, are warned', async () => {
  const r = await runCli(['describe', 'pod', 'ratings-v1-9bbb5c8f6-7vtrw', '--files', BOOKINFO]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /   WARNING POD DOES NOT MATCH ANY SUBSETS\.  \(Non matching subsets v2,v2-mysql\)\n   Matching subsets: \n      \(Non-matching subsets v2,v2-mysql\)\n   No Traffic Policy\n/);
  assert.match(r.stdout, /VirtualService: ratings\n   WARNING: No destinations match pod subsets \(checked 1 HTTP routes\)\n   WARNING: Route to UNKNOWN subset v1; check DestinationRule ratings\n/);
});

test('describe pod: no Service selecting the pod, sidecar not ready', async () => {
  const r = await runCli(['describe', 'pod', 'lonely-6f7d9c8b5-abcde', '--files', fixture('describe', 'no-service')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Sidecar: injected, NOT READY, proxy version 1\.23\.2\n/);
  assert.match(r.stdout, /WARNING: Pod lonely-6f7d9c8b5-abcde Container istio-proxy NOT READY\n/);
  assert.match(r.stdout, /WARNING: No Kubernetes Services select pod lonely-6f7d9c8b5-abcde/);
  assert.match(r.stdout, /Workload mTLS mode: PERMISSIVE \(Istio's default, no policy sets a mode\)/);
});

test('describe pod: unmeshed pod in an injection-enabled namespace, UID 1337, named target port, protocol sniffing', async () => {
  const r = await runCli(['describe', 'pod', 'legacy-0', '-n', 'batch', '--files', fixture('describe', 'no-service')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /WARNING: legacy-0 is not part of mesh; no Istio sidecar although namespace batch has injection enabled/);
  assert.match(r.stdout, /WARNING: container legacy runs as UID 1337/);
  assert.match(r.stdout, /   Port: web 80\/auto-detect targets pod port 8080\n   Port: 3306\/TCP \(well-known port 3306\) targets pod port 3306\n/);
  assert.match(r.stdout, /WARNING: service legacy port 80: name "web" names no protocol/);
});

test('describe pod: conflicting DestinationRules merged, mTLS at mesh, namespace, workload and port level', async () => {
  const r = await runCli(['describe', 'pod', 'cart-v1-0', '--files', fixture('describe', 'conflicts')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /DestinationRule: cart-a for "cart"\n   Merged with: cart-b\n   Matching subsets: v1\n      \(Non-matching subsets v2\)\n/);
  assert.match(r.stdout, /WARNING: conflicting DestinationRules for "cart\.shop\.svc\.cluster\.local": cart-a \([^)]*objects\.yaml[^)]*\), cart-b \([^)]*objects\.yaml[^)]*\); Istio merges them, the traffic policy of cart-a wins/);
  assert.match(r.stdout, /WARNING: subset "v1" is defined by both cart-a and cart-b; only the one in cart-a is used/);
  assert.match(r.stdout, /   Port: grpc-api 9090\/GRPC targets pod port 9090\n   Port: metrics 9100\/HTTP \(appProtocol "http"\) targets pod port 9100\n/);
  assert.match(r.stdout, /Workload mTLS mode: STRICT \(workload level\)\n   Port Level mTLS mode:\n      9100: PERMISSIVE\n/);
  assert.match(r.stdout, /shop-disable\.shop \(ignored: an older one wins\)/);
  assert.match(r.stdout, /WARNING: 2 namespace-level PeerAuthentications apply/);
  assert.match(r.stdout, /AuthorizationPolicies: 0 ALLOW, 0 DENY, 1 CUSTOM, 0 AUDIT\n   CUSTOM ext-authz\.istio-system \(mesh, provider oauth2-proxy, 1 rule\)\n/);
});

test('describe pod: DestinationRule disabling TLS to a STRICT pod, ALLOW policy without rules', async () => {
  const r = await runCli(['describe', 'pod', 'payments-v1-0.shop', '--files', fixture('describe', 'conflicts')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /WARNING: DestinationRule payments disables TLS to payments:8080 but the pod requires mTLS \(STRICT\) on port 8080/);
  assert.match(r.stdout, /AuthorizationPolicies: 1 ALLOW, 0 DENY, 1 CUSTOM, 1 AUDIT\n/);
  assert.match(r.stdout, /WARNING: AuthorizationPolicy payments-lockdown\.shop is ALLOW with no rules/);
});

test('describe pod: root namespace from the mesh config, wildcard hosts, exportTo, hosts Istio never expands', async () => {
  const files = fixture('describe', 'precedence');
  const catalog = await runCli(['describe', 'pod', 'catalog-v1-0', '--files', files]);
  assert.equal(catalog.code, 0, catalog.stderr);
  assert.match(catalog.stdout, /DestinationRule: store-wide\.istio-config for "\*\.store\.svc\.cluster\.local"\n   Found in: root namespace\n   Traffic Policy TLS Mode: ISTIO_MUTUAL\n/);
  assert.match(catalog.stdout, /WARNING: DestinationRule catalog-typo has host "catalog\.store", which Istio does not expand/);
  const search = await runCli(['describe', 'pod', 'search-v1-0', '-n', 'store', '--files', files]);
  assert.match(search.stdout, /DestinationRule: search for "search"\n   Policies: outlier detection\n/);
});

test('describe service: pods summarised with their subsets, all routes shown', async () => {
  const r = await runCli(['describe', 'svc', 'reviews', '--files', BOOKINFO]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Service: reviews\n   Port: http 9080\/HTTP targets pod port 9080\n   Pods: 3 \(3 with sidecar, 3 ready\)\n      reviews-v1-8b4c7d8d5-5kq2r: Running, sidecar ready, subsets v1\n/);
  assert.match(r.stdout, /   Matching subsets: v1,v2,v3\n/);
  assert.match(r.stdout, /   Route to host "reviews" subset "v2" with weight 100%\n   Match: when headers are end-user=jason\n   Route to host "reviews" subset "v1" with weight 80%\n   Route to host "reviews" subset "v3" with weight 20%\n/);
});

test('describe -o json|yaml: the same facts as data', async () => {
  const r = await runCli(['describe', 'pod', 'ratings-v1-9bbb5c8f6-7vtrw', '--files', BOOKINFO, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const data = JSON.parse(r.stdout);
  assert.equal(data.kind, 'Pod');
  assert.equal(data.pod.name, 'ratings-v1-9bbb5c8f6-7vtrw');
  assert.equal(data.services[0].host, 'ratings.default.svc.cluster.local');
  assert.deepEqual(data.services[0].destinationRule.subsets, { matching: [], nonMatching: ['v2', 'v2-mysql'] });
  assert.equal(data.mtls.mode, 'STRICT');
  assert.ok(data.warnings.some((w: string) => w.startsWith('POD DOES NOT MATCH ANY SUBSETS')));
  const y = await runCli(['describe', 'service', 'reviews', '--files', BOOKINFO, '-o', 'yaml']);
  assert.equal(y.code, 0, y.stderr);
  assert.match(y.stdout, /^kind: Service\nservice:\n  name: reviews\n/);
});

test('describe: colour only when asked for a terminal-like stream (FORCE_COLOR is ignored off a TTY)', async () => {
  const r = await runCli(['describe', 'pod', 'ratings-v1-9bbb5c8f6-7vtrw', '--files', BOOKINFO], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
  assert.equal(r.code, 0);
  assert.doesNotMatch(r.stdout, /\x1b\[/);
});

test('describe: errors are one line with a non-zero exit', async () => {
  const missing = await runCli(['describe', 'pod', 'nope', '--files', BOOKINFO]);
  assert.equal(missing.code, 1);
  assert.ok(isOneLineError(missing.stderr), missing.stderr);
  assert.match(missing.stderr, /^Error: pod nope not found in /);
  const noCluster = await runCli(['describe', 'pod', PRODUCTPAGE, '--kubeconfig', 'no/such/kubeconfig']);
  assert.equal(noCluster.code, 1);
  assert.ok(isOneLineError(noCluster.stderr), noCluster.stderr);
  assert.match(noCluster.stderr, /no\/such\/kubeconfig/);
  const badFormat = await runCli(['describe', 'pod', PRODUCTPAGE, '--files', BOOKINFO, '-o', 'xml']);
  assert.equal(badFormat.code, 2);
  const noDir = await runCli(['describe', 'pod', PRODUCTPAGE, '--files', 'no/such/dir']);
  assert.equal(noDir.code, 1);
  assert.match(noDir.stderr, /no\/such\/dir: no such file or directory/);
  const notDump = await runCli(['describe', 'pod', PRODUCTPAGE, '--files', BOOKINFO, '-f', fixture('describe', 'bookinfo', 'pods.yaml')]);
  assert.equal(notDump.code, 1);
  assert.ok(isOneLineError(notDump.stderr), notDump.stderr);
});

test('describe: malformed YAML in --files names the file and line', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const path = await import('node:path');
  const dir = scratchDir('meshctl-describe-', t);
  writeFileSync(path.join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n');
  const r = await runCli(['describe', 'pod', 'x', '--files', dir]);
  assert.equal(r.code, 1);
  assert.ok(isOneLineError(r.stderr), r.stderr);
  assert.match(r.stderr, /bad\.yaml:\d+: invalid YAML: /);
});

test('describe service: no selector, no pods, no Istio pods are each warned', async () => {
  const files = fixture('describe', 'no-service');
  const external = await runCli(['describe', 'service', 'external-db.batch', '--files', files]);
  assert.equal(external.code, 0, external.stderr);
  assert.match(external.stdout, /WARNING: Service external-db has no selector/);
  assert.match(external.stdout, /Effective PeerAuthentication: \(no pods: mesh and namespace policies only\)/);
  const gone = await runCli(['describe', 'service', 'gone', '-n', 'batch', '--files', files]);
  assert.match(gone.stdout, /   Pods: 0 \(0 with sidecar, 0 ready\)\nWARNING: Service gone has no pods\n/);
  const legacy = await runCli(['describe', 'service', 'legacy', '--files', files]);
  assert.match(legacy.stdout, /      legacy-0: Running, no sidecar\n/);
  assert.match(legacy.stdout, /WARNING: Service legacy has no Istio pods \(1 pods in service\)/);
});

test('describe: origins are file:line in -o json, and conflicting rules name where they are', async () => {
  const r = await runCli(['describe', 'pod', 'cart-v1-0', '--files', fixture('describe', 'conflicts'), '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const data = JSON.parse(r.stdout);
  const rules = data.services[0].destinationRule.rules;
  assert.deepEqual(rules.map((x: { name: string }) => x.name), ['cart-a', 'cart-b']);
  assert.match(rules[0].origin, /conflicts[/\\]objects\.yaml:27$/);
  assert.match(rules[1].origin, /conflicts[/\\]objects\.yaml:37$/);
  assert.ok(data.mtls.applied.every((a: { origin?: string }) => /objects\.yaml:\d+$/.test(a.origin ?? '')));
});

test('describe --help: subcommands with examples; no name is a usage error', async () => {
  const help = await runCli(['describe', 'pod', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--files <path>/);
  assert.match(help.stdout, /Examples:\n  meshctl describe pod /);
  const none = await runCli(['describe', 'pod']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /missing required argument 'pod'/);
});
