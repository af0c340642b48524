/**
 * Hostile inputs for every command that reads a file. Each case is written to a temp file; the battery
 * runs commands on it and demands a clear one-line error or a correct partial result.
 */
export interface HostileCase {
  name: string;
  content: Buffer | string;
}

/** Byte offsets at which a real fixture is cut to make a truncated file. */
function cutPoints(length: number, count: number): number[] {
  const points = new Set<number>();
  for (let i = 1; i <= count; i++) points.add(Math.floor((length * i) / (count + 1)));
  points.add(1);
  points.add(length - 1);
  return [...points].filter((p) => p > 0 && p < length).sort((a, b) => a - b);
}

function aliasBomb(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    lines.push(`${cur}: &${cur} [${Array(9).fill('*' + prev).join(',')}]`);
  }
  return lines.join('\n') + '\n';
}

/** Inputs that are hostile whatever the command expects. */
export function genericCases(): HostileCase[] {
  return [
    { name: 'empty', content: '' },
    { name: 'whitespace only', content: '   \n\t\n' },
    { name: 'binary', content: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)) },
    { name: 'non-UTF-8 latin1', content: Buffer.from('kind: Service\nmetadata:\n  name: caf\xe9\n', 'latin1') },
    { name: 'deeply nested JSON', content: '['.repeat(100_000) + ']'.repeat(100_000) },
    { name: 'deeply nested YAML', content: 'a:\n' + Array.from({ length: 500 }, (_, i) => ' '.repeat(i + 1) + 'b:').join('\n') + ' 1\n' },
    { name: 'YAML alias bomb', content: aliasBomb() },
    { name: 'duplicate keys', content: 'kind: Pod\nkind: Service\nmetadata:\n  name: x\n' },
    { name: 'enormous string', content: JSON.stringify({ configs: [{ '@type': 'x'.repeat(5_000_000) }] }) },
    { name: 'enormous number', content: '{"configs": [' + '9'.repeat(100_000) + ']}' },
    { name: 'JSON scalar', content: '42' },
    { name: 'JSON null', content: 'null' },
    { name: 'JSON array', content: '[1, "two", {"three": 3}]' },
    { name: 'plain text', content: 'hello, this is not config at all\n' },
    { name: 'HTML error page', content: '<html><body><h1>503 Service Unavailable</h1></body></html>\n' },
    { name: 'YAML tab indentation', content: 'kind: Pod\nmetadata:\n\tname: x\n' },
    { name: 'NUL bytes', content: Buffer.from('{"configs": [\u0000\u0000]}') },
  ];
}

/** A real fixture cut at several offsets. */
export function truncations(name: string, content: string, count = 6): HostileCase[] {
  return cutPoints(content.length, count).map((at) => ({ name: `${name} truncated at ${at}/${content.length}`, content: content.slice(0, at) }));
}

/** Envoy-specific: a dump with wrong types where the model reads fields, v2 types, unknown types. */
export function configDumpCases(): HostileCase[] {
  const wrong = (section: Record<string, unknown>) => JSON.stringify({ configs: [section] });
  return [
    { name: 'configs not an array', content: '{"configs": {"a": 1}}' },
    { name: 'config entry not an object', content: '{"configs": [1, "x", null, []]}' },
    { name: 'no @type', content: '{"configs": [{"bootstrap": {}}]}' },
    { name: 'unknown @type only', content: wrong({ '@type': 'type.googleapis.com/envoy.admin.v9.FutureConfigDump', x: 1 }) },
    {
      name: 'v2 types',
      content: wrong({ '@type': 'type.googleapis.com/envoy.admin.v2alpha.ClustersConfigDump', static_clusters: [{ cluster: { name: 'a' } }] }),
    },
    { name: 'clusters wrong types', content: wrong({ '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', static_clusters: 'nope', dynamic_active_clusters: [{ cluster: 7 }, null, { cluster: { name: 42, type: [] } }] }) },
    { name: 'listeners wrong types', content: wrong({ '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', dynamic_listeners: [{ name: 1, active_state: { listener: { address: 'x', filter_chains: {} } } }, 'bad'] }) },
    { name: 'routes wrong types', content: wrong({ '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump', dynamic_route_configs: [{ route_config: { name: 'r', virtual_hosts: [{ domains: 'x', routes: [{ match: 5 }] }] } }] }) },
    { name: 'secrets wrong types', content: wrong({ '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump', dynamic_active_secrets: [{ name: 'default', secret: { tls_certificate: { certificate_chain: { inline_bytes: 'not base64 !!!' } } } }] }) },
    { name: 'endpoints wrong types', content: wrong({ '@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump', dynamic_endpoint_configs: [{ endpoint_config: { cluster_name: 3, endpoints: [{ lb_endpoints: 'x' }] } }] }) },
  ];
}

/** ztunnel-specific: wrong types where the model reads fields, sections of the wrong shape, stray kinds. */
export function ztunnelDumpCases(): HostileCase[] {
  const w = (over: Record<string, unknown>) => ({ name: 'w', namespace: 'ns', workloadIps: ['10.0.0.1'], protocol: 'HBONE', status: 'Healthy', ...over });
  const j = (doc: unknown) => JSON.stringify(doc);
  return [
    { name: 'ztunnel: sections of the wrong type', content: j({ workloads: 'x', services: 5, policies: true, certificates: {}, workloadState: [] }) },
    { name: 'ztunnel: entries not objects', content: j({ workloads: [1, null, 'w', []], services: [null], policies: ['p'], certificates: [7], workloadState: { u: 'x' } }) },
    { name: 'ztunnel: workload fields of the wrong type', content: j({ workloads: [w({ workloadIps: [1, 2] }), w({ waypoint: 'wp' }), w({ namespace: 3 }), w({ services: 'svc' }), w({ name: { x: 1 } })] }) },
    { name: 'ztunnel: waypoint without destination', content: j({ workloads: [w({ waypoint: { hboneMtlsPort: 'x' } })], services: [{ name: 's', namespace: 'ns', hostname: 'h', vips: ['/1.2.3.4'], ports: {}, endpoints: {}, waypoint: { destination: 9 } }] }) },
    { name: 'ztunnel: endpoints of the wrong shape', content: j({ services: [{ name: 's', namespace: 'ns', hostname: 'h', vips: ['/1.2.3.4'], ports: [], endpoints: { a: 1, b: { workloadUid: 3 } } }] }) },
    { name: 'ztunnel: policy rules not nested lists', content: j({ policies: [{ name: 'p', namespace: 'ns', scope: 'Global', action: 'Allow', rules: [1, [2], [[3]]] }] }) },
    { name: 'ztunnel: certificates with odd serials and dates', content: j({ certificates: [{ identity: 'spiffe://x', state: 'Available', certChain: [{ pem: '!!', serialNumber: 'zz', validFrom: 'yesterday', expirationTime: 12 }], rootCerts: 'r' }, { identity: 5, state: 'Available' }] }) },
    { name: 'ztunnel: connections of the wrong shape', content: j({ workloadState: { a: { info: { name: 'n', namespace: 'ns' }, connections: { inbound: 'x', outbound: [1] } }, b: { info: 'i' }, c: { info: { name: 'n', namespace: 'ns' }, connections: { inbound: [{ src: 5, actualDst: null }] } } } }) },
    { name: 'ztunnel: unknown fields everywhere', content: j({ future: 1, workloads: [w({ future: [1] })], services: [], policies: [], certificates: [], workloadState: {} }) },
    { name: 'ztunnel: huge port and address strings', content: j({ workloads: [w({ workloadIps: ['x'.repeat(200_000)], node: 'n'.repeat(100_000) })] }) },
  ];
}
