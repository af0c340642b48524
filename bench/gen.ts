/**
 * Writes a generated mesh for benchmarks: an Istio sidecar's config dump (/config_dump?include_eds),
 * Envoy's /clusters?format=json, istiod's /debug/registryz and the YAML resources behind them.
 *   npm run gen -- --services 1000 --out bench/out/svc-1000 [--seed 1] [--no-resources]
 *   npm run gen -- --authz 1000 --rules 10 --out bench/out/authz-1000x10   (a sidecar dump with that many AuthorizationPolicies)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { authzDump, manyPolicies } from './lib/authz-dump.js';
import { generate } from './lib/generate.js';

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        services: { type: 'string', short: 'n' },
        out: { type: 'string', short: 'o' },
        seed: { type: 'string', default: '1' },
        'no-resources': { type: 'boolean', default: false },
        authz: { type: 'string' },
        rules: { type: 'string', default: '10' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write('usage: npm run gen -- --services N --out DIR [--seed S] [--no-resources]\n');
    return;
  }
  if (values.authz !== undefined) {
    const n = Number(values.authz);
    const rules = Number(values.rules);
    if (!Number.isInteger(n) || n < 1 || !Number.isInteger(rules) || rules < 1) fail('--authz N and --rules R take positive integers');
    if (!values.out) fail('--out DIR is required');
    const w = { name: 'httpbin', namespace: 'foo', serviceAccount: 'httpbin', ip: '10.244.1.10', labels: { app: 'httpbin' }, ports: [{ port: 8000, protocol: 'HTTP' as const }, { port: 9000, protocol: 'TCP' as const }] };
    mkdirSync(values.out, { recursive: true });
    const text = JSON.stringify(authzDump(w, manyPolicies(n, rules, 'foo', 'httpbin')));
    writeFileSync(path.join(values.out, 'config_dump.json'), text);
    process.stdout.write(`${values.out}: ${n} AuthorizationPolicies, ${n * rules} rules; config_dump.json ${(text.length / 1048576).toFixed(1)} MB\n`);
    return;
  }
  const services = Number(values.services);
  const seed = Number(values.seed);
  if (!values.services || !Number.isInteger(services) || services < 1) fail('--services N (a positive integer) is required');
  if (!values.out) fail('--out DIR is required');
  if (!Number.isInteger(seed)) fail('--seed must be an integer');
  const started = Date.now();
  const s = generate({ services, out: values.out, seed, resources: !values['no-resources'] });
  const mb = (n: number) => (n / 1048576).toFixed(1);
  process.stdout.write(
    `${values.out}: ${s.services} services in ${s.namespaces} namespaces, ${s.counts.clusters} clusters, ` +
      `${s.counts.listeners} listeners, ${s.counts.routeConfigs} route configs (${s.counts.virtualHosts} virtual hosts), ` +
      `${s.counts.endpoints} endpoints; config_dump.json ${mb(s.bytes.configDump)} MB, clusters.json ${mb(s.bytes.clusters)} MB, ` +
      `registryz.json ${mb(s.bytes.registryz)} MB, ${s.counts.resources} resources in ${s.counts.resourceFiles} files ` +
      `(${mb(s.bytes.resources)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

function fail(message: string): never {
  process.stderr.write(`gen: ${message}\n`);
  process.exit(2);
}

main();
