import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '../helpers.js';
import { PRODUCTPAGE, startCluster } from '../harness/cluster.js';

describe('dashboard envoy', () => {
  test('holds a local port-forward to the admin UI, prints the URL, exits on SIGTERM', async () => {
    const c = await startCluster();
    try {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'meshctl.js'), 'dashboard', 'envoy', 'deploy/productpage-v1', '--kubeconfig', c.kubeconfig], {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          const m = /^(http:\/\/localhost:\d+)\s/m.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      assert.match(out, new RegExp(`Envoy admin of pod ${PRODUCTPAGE}\\.default`));
      const body = await get(`${url.replace('localhost', '127.0.0.1')}/server_info`);
      assert.match(body, /"state": "LIVE"/);
      const home = await get(`${url.replace('localhost', '127.0.0.1')}/`);
      assert.match(home, /Envoy Admin/);
      const code = await new Promise<number | null>((resolve) => {
        child.on('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      });
      clearTimeout(killer);
      assert.equal(code, 0);
    } finally {
      await c.close();
    }
  });
});

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject);
  });
}
