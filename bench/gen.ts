/**
 * Writes a generated mesh for benchmarks: an Istio sidecar's config dump (/config_dump?include_eds),
 * Envoy's /clusters?format=json, istiod's /debug/registryz and the YAML resources behind them.
 *   npm run gen -- --services 1000 --out bench/out/svc-1000 [--seed 1] [--no-resources]
 */
import { parseArgs } from 'node:util';
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
