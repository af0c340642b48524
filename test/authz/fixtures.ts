/**
 * Builds the authz fixtures (fixtures/authz/*-config_dump.json): Istio-shaped sidecar dumps of httpbin.foo
 * whose RBAC and ext_authz filters are what Istio builds from the AuthorizationPolicies in
 * fixtures/authz/<set>/ (bench/lib/authz-dump.ts). Regenerate with
 *   npm run build && node dist/test/authz/fixtures.js --write
 * (a test checks the committed files still equal what this builds).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { authzDump, type Workload } from '../../bench/lib/authz-dump.js';
import type { AuthorizationPolicyDoc } from '../../src/authz/istio-policy.js';
import { fixture } from '../helpers.js';

export const HTTPBIN: Workload = {
  name: 'httpbin',
  namespace: 'foo',
  serviceAccount: 'httpbin',
  ip: '10.244.1.10',
  labels: { app: 'httpbin', version: 'v1' },
  ports: [
    { port: 8000, protocol: 'HTTP' },
    { port: 9000, protocol: 'TCP' },
  ],
  jwtIssuers: ['https://issuer.example.com'],
};

export function policiesIn(dir: string): AuthorizationPolicyDoc[] {
  const out: AuthorizationPolicyDoc[] = [];
  for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    for (const d of yaml.loadAll(readFileSync(path.join(dir, f), 'utf8')) as { kind?: string }[]) if (d?.kind === 'AuthorizationPolicy') out.push(d as AuthorizationPolicyDoc);
  }
  return out;
}

/** fixture file → JSON text */
export function authzFixtures(): Map<string, string> {
  const text = (j: unknown) => JSON.stringify(j, null, 2) + '\n';
  const out = new Map<string, string>();
  const main = authzDump(HTTPBIN, policiesIn(fixture('authz', 'manifests')));
  out.set('httpbin-config_dump.json', text(main));
  out.set('allow-nothing-config_dump.json', text(authzDump(HTTPBIN, policiesIn(fixture('authz', 'allow-nothing')))));
  out.set('deny-all-config_dump.json', text(authzDump(HTTPBIN, policiesIn(fixture('authz', 'deny-all')))));
  out.set('no-policies-config_dump.json', text(authzDump(HTTPBIN, [])));
  // A matcher kind meshctl does not know, in the httpbin ALLOW policy's rule 0 (as a newer Envoy might have).
  const odd = JSON.parse(text(main));
  const chains = odd.configs[2].dynamic_listeners[1].active_state.listener.filter_chains;
  for (const fc of chains) {
    for (const hf of fc.filters[0].typed_config.http_filters ?? []) {
      const p = hf.typed_config?.rules?.policies?.['ns[foo]-policy[httpbin]-rule[0]'];
      if (p) p.principals = [{ and_ids: { ids: [{ quantum_identity: { entangled: true } }] } }];
    }
  }
  out.set('unknown-matcher-config_dump.json', text(odd));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  for (const [name, body] of authzFixtures()) {
    writeFileSync(fixture('authz', name), body);
    process.stdout.write(`wrote fixtures/authz/${name}\n`);
  }
}
