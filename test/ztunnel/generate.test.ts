import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { certificateRows, parseZtunnelDump, ZtunnelModel } from '../../src/ztunnel/index.js';
import { fixture } from '../helpers.js';

const GENERATOR = fixture('ztunnel', 'generate.mjs');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'meshctl-zgen-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('fixtures/ztunnel/generate.mjs', () => {
  test('the committed dumps are what the generator writes', () => {
    const r = spawnSync(process.execPath, [GENERATOR, '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('the committed dumps cover what the issue asks: waypoints of each kind, nodes, directions, certificate states', () => {
    const nodes = ['control-plane', 'worker', 'worker2'].map((n) => {
      const name = `ztunnel-${n}-config_dump.json`;
      return new ZtunnelModel(parseZtunnelDump(JSON.parse(readFileSync(fixture('ztunnel', name), 'utf8')), name));
    });
    const m = nodes[1];
    assert.ok(m.services.some((s) => s.waypoint?.destination.startsWith('/')), 'a service-bound waypoint by address');
    assert.ok(m.services.some((s) => s.waypoint && !s.waypoint.destination.startsWith('/')), 'a service-bound waypoint by hostname');
    assert.ok(m.workloads.some((w) => w.waypoint), 'a workload-bound waypoint');
    assert.ok(m.workloads.some((w) => w.namespace === 'shop' && w.protocol === 'HBONE') && !m.services.some((s) => s.namespace === 'shop' && s.waypoint), 'an ambient namespace without waypoint');
    assert.deepEqual([...new Set(m.workloads.map((w) => w.node).filter(Boolean))].sort(), ['ambient-control-plane', 'ambient-worker', 'ambient-worker2']);
    const states = new Set(nodes.flatMap((n) => certificateRows(n).map((r) => r.status)));
    assert.deepEqual([...states].sort(), ['Available', 'Initializing', 'Unavailable']);
    for (const n of nodes.slice(1)) {
      const conns = n.workloadState.flatMap((s) => [...(s.connections?.inbound ?? []).map(() => 'in'), ...(s.connections?.outbound ?? []).map(() => 'out')]);
      assert.ok(conns.includes('in') && conns.includes('out'), `${n.source}: connections both ways`);
    }
    assert.ok(!readFileSync(fixture('ztunnel', 'ztunnel-worker-config_dump.json'), 'utf8').includes('PRIVATE KEY'));
  });

  test('the large mode: exactly the workloads and services asked for, readable, node-0\'s view', () => {
    const out = path.join(tmp, 'big');
    const r = spawnSync(process.execPath, [GENERATOR, '--workloads', '300', '--services', '150', '--nodes', '4', '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
    const m = new ZtunnelModel(parseZtunnelDump(JSON.parse(readFileSync(meta.file, 'utf8')), meta.file));
    assert.deepEqual(m.parsed.problems, []);
    assert.equal(m.workloads.length, 300);
    assert.equal(m.services.length, 150);
    assert.ok(m.services.filter((s) => s.waypoint).length > 10);
    assert.ok(m.workloads.some((w) => w.waypoint));
    assert.ok(m.workloadState.length > 0);
    assert.ok(m.workloadState.every((s) => m.workloadsByName(s.info.name, s.info.namespace)[0]?.node === 'node-0'));
    const states = new Set(m.certificates.map((c) => c.state.split(':')[0]));
    assert.deepEqual([...states].sort(), ['Available', 'Initializing', 'Unavailable']);
    const again = spawnSync(process.execPath, [GENERATOR, '--workloads', '300', '--services', '150', '--nodes', '4', '--out', path.join(tmp, 'again')], { encoding: 'utf8' });
    assert.equal(again.status, 0);
    assert.equal(readFileSync(path.join(tmp, 'again', 'ztunnel-config_dump.json'), 'utf8'), readFileSync(meta.file, 'utf8'), 'the same seed gives the same mesh');
  });
});
