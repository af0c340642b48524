import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderTable } from '../../src/output/table.js';
import {
  certificateRows,
  certificateTable,
  connectionTable,
  parseZtunnelDump,
  policyTable,
  serialHex,
  serviceTable,
  workloadTable,
  ZtunnelModel,
  type Table,
} from '../../src/ztunnel/index.js';

/** A dump small enough that every expected table below is written out by hand. */
function tinyDump(): Record<string, unknown> {
  const wl = (name: string, ns: string, ip: string[], node: string, extra: Record<string, unknown> = {}) => ({
    uid: `Kubernetes//Pod/${ns}/${name}`,
    name,
    namespace: ns,
    workloadIps: ip,
    node,
    protocol: 'HBONE',
    status: 'Healthy',
    serviceAccount: 'default',
    trustDomain: 'cluster.local',
    ...extra,
  });
  return {
    workloads: [
      wl('b', 'a', ['10.0.0.2'], 'n2'),
      // "a-x.c" sorts before "a.b": istioctl compares namespace + "." + name as one string
      wl('c', 'a-x', ['10.0.0.3'], 'n1', { protocol: 'TCP', waypoint: { destination: '/10.96.0.9', hboneMtlsPort: 15008 } }),
      wl('b', 'a', ['10.0.0.4'], 'n1', { uid: 'Kubernetes//Pod/a/b-2', status: 'Unhealthy' }),
      wl('ext', 'a', [], '', { hostname: 'api.example.com', protocol: 'TCP', waypoint: { destination: 'zz/nothing.zz.svc.cluster.local', hboneMtlsPort: 15008 } }),
      wl('wp', 'a', ['10.0.0.9'], 'n1', { protocol: 'TCP' }),
    ],
    services: [
      {
        name: 'svc',
        namespace: 'a',
        hostname: 'svc.a.svc.cluster.local',
        vips: ['/10.96.0.1', '/fd00::1'],
        ports: { '80': 8080 },
        endpoints: {
          'Kubernetes//Pod/a/b': { workloadUid: 'Kubernetes//Pod/a/b', port: { '80': 8080 }, status: 'Healthy' },
          'Kubernetes//Pod/a/b-2': { workloadUid: 'Kubernetes//Pod/a/b-2', port: { '80': 8080 }, status: 'Unhealthy' },
          'Kubernetes//Pod/gone/x': { workloadUid: 'Kubernetes//Pod/gone/x', port: { '80': 8080 }, status: 'Healthy' },
        },
        waypoint: { destination: 'a/wp.a.svc.cluster.local', hboneMtlsPort: 15008 },
      },
      { name: 'wp', namespace: 'a', hostname: 'wp.a.svc.cluster.local', vips: ['/10.96.0.9'], ports: { '15008': 15008 }, endpoints: {} },
      { name: 'alpha', namespace: 'a', hostname: 'alpha.a.svc.cluster.local', vips: [], ports: {}, endpoints: {} },
    ],
    policies: [
      { name: 'zeta', namespace: 'a', scope: 'Namespace', action: 'Allow', rules: [] },
      { name: 'alpha', namespace: 'a', scope: 'WorkloadSelector', action: 'Deny', rules: [[[{ destinationPorts: [80] }]]] },
      { name: 'root', namespace: 'istio-system', scope: 'Global', action: 'Deny', rules: [] },
    ],
    certificates: [
      {
        identity: 'spiffe://cluster.local/ns/a/sa/default',
        state: 'Available',
        certChain: [
          { pem: '', serialNumber: '255', validFrom: '2026-01-01T00:00:00Z', expirationTime: '2026-01-02T00:00:00Z' },
          { pem: '', serialNumber: '4096', validFrom: '2025-01-01T00:00:00Z', expirationTime: '2035-01-01T00:00:00Z' },
        ],
        rootCerts: [{ pem: '', serialNumber: '1', validFrom: '2025-01-01T00:00:00Z', expirationTime: '2035-01-01T00:00:00Z' }],
      },
      { identity: 'spiffe://cluster.local/ns/a/sa/gone', state: 'Unavailable: the identity is no longer needed', certChain: [], rootCerts: [] },
      { identity: 'spiffe://cluster.local/ns/a/sa/new', state: 'Initializing', certChain: [], rootCerts: [] },
    ],
    workloadState: {
      'uid-2': {
        info: { name: 'wp', namespace: 'a', serviceAccount: 'wp' },
        state: 'Up',
        connections: { inbound: [], outbound: [{ src: '10.0.0.9:5000', originalDst: '10.96.0.1:80', actualDst: '10.0.0.2:15008', protocol: 'HBONE' }] },
      },
      'uid-1': {
        info: { name: 'b', namespace: 'a', serviceAccount: 'default' },
        state: 'Up',
        connections: {
          inbound: [
            { src: '10.0.0.9:41000', originalDst: 'svc.a.svc.cluster.local', actualDst: '10.0.0.2:8080', protocol: 'HBONE' },
            { src: '192.168.9.9:41001', originalDst: null, actualDst: '10.0.0.2:8080', protocol: 'TCP' },
          ],
          outbound: [],
        },
      },
    },
  };
}

const model = (doc: unknown = tinyDump()) => new ZtunnelModel(parseZtunnelDump(doc, 'tiny.json'));
const text = (t: Table) => renderTable(t.headers, t.rows, { padding: t.padding });

describe('ztunnel-config tables (istioctl layout)', () => {
  test('workloads: namespace.name string order, then node; ADDRESS falls back to the hostname; WAYPOINT None/name/NA', () => {
    assert.equal(
      text(workloadTable(model(), {})),
      [
        'NAMESPACE POD NAME ADDRESS         NODE WAYPOINT PROTOCOL',
        'a-x       c        10.0.0.3        n1   wp       TCP',
        'a         b        10.0.0.4        n1   None     HBONE',
        'a         b        10.0.0.2        n2   None     HBONE',
        'a         ext      api.example.com      NA       TCP',
        'a         wp       10.0.0.9        n1   None     TCP',
        '',
      ].join('\n'),
    );
  });

  test('workload filters: namespace (any case), node, address; a pod filter picks one workload', () => {
    const rows = (f: Parameters<typeof workloadTable>[1]) => workloadTable(model(), f).rows.map((r) => `${r[0]}/${r[1]}@${r[3]}`);
    assert.deepEqual(rows({ namespace: 'A-X' }), ['a-x/c@n1']);
    assert.deepEqual(rows({ node: 'n1', namespace: 'a' }), ['a/b@n1', 'a/wp@n1']);
    assert.deepEqual(rows({ address: '10.0.0.2' }), ['a/b@n2']);
    assert.deepEqual(rows({ pod: { name: 'wp', namespace: 'a' } }), ['a/wp@n1']);
    assert.deepEqual(rows({ address: '10.9.9.9' }), []);
  });

  test('services: sorted by namespace and name; every VIP; waypoint by hostname; ENDPOINTS counts healthy known workloads', () => {
    assert.equal(
      text(serviceTable(model(), {})),
      [
        'NAMESPACE SERVICE NAME SERVICE VIP       WAYPOINT ENDPOINTS',
        'a         alpha                          None     0/0',
        'a         svc          10.96.0.1,fd00::1 wp       1/3',
        'a         wp           10.96.0.9         None     0/0',
        '',
      ].join('\n'),
    );
    assert.deepEqual(serviceTable(model(), { namespace: 'other' }).rows, []);
  });

  test('policies: sorted by namespace then name; ACTION and SCOPE as ztunnel names them', () => {
    assert.equal(
      text(policyTable(model(), {})),
      [
        'NAMESPACE    POLICY NAME ACTION SCOPE',
        'a            alpha       Deny   WorkloadSelector',
        'a            zeta        Allow  Namespace',
        'istio-system root        Deny   Global',
        '',
      ].join('\n'),
    );
    assert.equal(policyTable(model(), { namespace: 'ISTIO-SYSTEM' }).rows.length, 1);
  });

  test('certificates: leaf, intermediates, roots; hex serials; validity at a given time; Unavailable without its reason', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    assert.equal(
      text(certificateTable(model(), now)),
      [
        'CERTIFICATE NAME                           TYPE             STATUS           VALID CERT     SERIAL NUMBER     NOT AFTER                NOT BEFORE',
        'spiffe://cluster.local/ns/a/sa/default     Leaf             Available        true           ff                2026-01-02T00:00:00Z     2026-01-01T00:00:00Z',
        'spiffe://cluster.local/ns/a/sa/default     Intermediate     Available        true           1000              2035-01-01T00:00:00Z     2025-01-01T00:00:00Z',
        'spiffe://cluster.local/ns/a/sa/default     Root             Available        true           1                 2035-01-01T00:00:00Z     2025-01-01T00:00:00Z',
        'spiffe://cluster.local/ns/a/sa/gone        NA               Unavailable      false          NA                NA                       NA',
        'spiffe://cluster.local/ns/a/sa/new         NA               Initializing     false          NA                NA                       NA',
        '',
      ].join('\n'),
    );
    // a day later the leaf has expired
    const later = certificateRows(model(), new Date('2026-01-03T00:00:00Z'));
    assert.deepEqual(later.map((r) => r.valid), [false, true, true, false, false]);
    assert.equal(later[3].state, 'Unavailable: the identity is no longer needed');
  });

  test('certificates from older ztunnels (no rootCerts): the last of the chain is the root', () => {
    const doc = tinyDump();
    const certs = doc.certificates as { rootCerts?: unknown[] }[];
    delete certs[0].rootCerts;
    assert.deepEqual(certificateRows(model(doc)).slice(0, 2).map((r) => r.type), ['Leaf', 'Root']);
  });

  test('serials: decimal to lowercase hex, big ones exactly; anything else as written', () => {
    assert.equal(serialHex('271676055104741785552467469040731750696653685944'), '2f96602a12c1e5a2b06ad9dd3251a705e7f004b8');
    assert.equal(serialHex('0'), '0');
    assert.equal(serialHex('7FAB88'), '7FAB88');
    assert.equal(serialHex(''), 'NA');
  });

  test('connections: by namespace then name; addresses named after services (first VIP) and workloads (first IP)', () => {
    assert.equal(
      text(connectionTable(model(), {})),
      [
        'WORKLOAD DIRECTION LOCAL     REMOTE            REMOTE TARGET              PROTOCOL',
        'b.a      Inbound   b.a:8080  wp.a:41000        svc.a.svc.cluster.local    HBONE',
        'b.a      Inbound   b.a:8080  192.168.9.9:41001                            TCP',
        'wp.a     Outbound  wp.a:5000 b.a:15008         svc.a.svc.cluster.local:80 HBONE',
        '',
      ].join('\n'),
    );
  });

  test('connections: IPv6 addresses are named too ([v6]:port, as Go joins them); addresses that are not host:port stay as written', () => {
    const doc = {
      workloads: [
        { uid: 'u1', name: 'v6', namespace: 'a', workloadIps: ['fd00::1'], node: 'n' },
        { uid: 'u2', name: 'v4', namespace: 'a', workloadIps: ['10.0.0.1'], node: 'n' },
      ],
      services: [{ name: 'svc6', namespace: 'a', hostname: 'svc6.a.svc.cluster.local', vips: ['/fd00:96::1'] }],
      workloadState: {
        u1: {
          info: { name: 'v6', namespace: 'a' },
          connections: {
            inbound: [{ src: '[fd00::9]:41000', actualDst: '[fd00::1]:8080', originalDst: 'x', protocol: 'HBONE' }],
            outbound: [
              { src: '[fd00::1]:5000', actualDst: '10.0.0.1:15008', originalDst: '[fd00:96::1]:80', protocol: 'HBONE' },
              { src: 'fd00::1', actualDst: '10.0.0.1', originalDst: '[fd00:96::1]', protocol: 'TCP' },
            ],
          },
        },
      },
    };
    assert.deepEqual(connectionTable(model(doc), {}).rows, [
      ['v6.a', 'Inbound', 'v6.a:8080', '[fd00::9]:41000', 'x', 'HBONE'],
      ['v6.a', 'Outbound', 'v6.a:5000', 'v4.a:15008', 'svc6.a.svc.cluster.local:80', 'HBONE'],
      ['v6.a', 'Outbound', 'fd00::1', '10.0.0.1', '[fd00:96::1]', 'TCP'],
    ]);
    // a name that is itself an IPv6 address (a workload without a name) is bracketed
    const unnamed = structuredClone(doc);
    unnamed.services = [{ name: 'svc6', namespace: 'a', hostname: 'fd00::42', vips: ['/10.0.0.1'] }];
    assert.equal(connectionTable(model(unnamed), {}).rows[1][3], '[fd00::42]:15008');
  });

  test('connections: --raw keeps addresses, --direction and the namespace and pod filters narrow', () => {
    const t = connectionTable(model(), { raw: true, direction: 'outbound' });
    assert.deepEqual(t.rows, [['wp.a', 'Outbound', '10.0.0.9:5000', '10.0.0.2:15008', '10.96.0.1:80', 'HBONE']]);
    assert.equal(connectionTable(model(), { direction: 'inbound' }).rows.length, 2);
    assert.equal(connectionTable(model(), { namespace: 'b' }).rows.length, 0);
    assert.deepEqual(connectionTable(model(), { pod: { name: 'wp', namespace: 'a' } }).rows.map((r) => r[0]), ['wp.a']);
  });
});
