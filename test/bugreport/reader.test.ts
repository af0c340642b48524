/**
 * The bundle reader: members read without unpacking and without reading the rest (seek to a member's
 * gzip member), a repacked bundle read by scanning, every member checked; and the hostile-input battery:
 * what is not a bundle, traversal names, links, devices, giant members, zip bombs, truncated and damaged
 * files are each refused with one line naming the member — and nothing is ever written.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { LIMITS } from '../../src/source/bundle/format.js';
import { openBundle } from '../../src/source/bundle/reader.js';
import { BundleWriter } from '../../src/source/bundle/writer.js';
import { isOneLineError, pool, runCli } from '../helpers.js';
import { unpack } from './util.js';
import { POD_NAME, POD_REF, baseIndex, gz, hugeHeader, indexFor, podList, tarOf, writeBundle } from './make.js';

let dir: string;
let good: string;
before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-bundle-reader-'));
  good = path.join(dir, 'good.tar.gz');
  await writeBundle(good);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('reading', () => {
  test('a hand-made bundle answers proxy-config like the dump itself', async () => {
    const [fromBundle, fromFile] = await Promise.all([
      runCli(['proxy-config', 'clusters', POD_REF, '--bundle', good]),
      runCli(['proxy-config', 'clusters', '-f', 'fixtures/bookinfo/productpage-config_dump.json']),
    ]);
    assert.equal(fromBundle.code, 0, fromBundle.stderr);
    assert.equal(fromBundle.stdout, fromFile.stdout);
  });

  test('one member of a big bundle is read from its offset: the rest is neither read nor inflated', async () => {
    const big = path.join(dir, 'big.tar.gz');
    const w = await BundleWriter.create(big);
    // incompressible filler: 24 members of 1 MiB, then the member wanted, then 24 more
    const filler = () => Buffer.from(randomBytes(768 * 1024).toString('base64'));
    for (let i = 0; i < 24; i++) await w.add(`pods/shop/f${i}/config_dump.json`, filler());
    const wanted = Buffer.from(JSON.stringify({ wanted: true, pad: 'x'.repeat(10_000) }));
    await w.add('pods/shop/wanted/config_dump.json', wanted);
    for (let i = 24; i < 48; i++) await w.add(`pods/shop/f${i}/config_dump.json`, filler());
    await w.finish(baseIndex());
    const size = readFileSync(big).length;
    const r = await openBundle(big);
    const opened = { ...r.stats };
    assert.deepEqual(await r.read('pods/shop/wanted/config_dump.json'), wanted);
    const forMember = r.stats.fileBytes - opened.fileBytes;
    // the read stream reads ahead by at most one chunk (256 KiB) past the member
    assert.ok(forMember < 600 * 1024, `read ${forMember} bytes of a ${size}-byte bundle for one member`);
    assert.ok(r.stats.fileBytes < size / 10, `opening and one member read ${r.stats.fileBytes} of ${size} bytes`);
    assert.ok(r.stats.inflatedBytes < 2 * 1024 * 1024, `inflated ${r.stats.inflatedBytes} bytes`);
  });

  test('a bundle repacked by tar (no locator, one gzip stream) is read by scanning, still checked', async () => {
    const unpacked = path.join(dir, 'repack');
    const names = await unpack(good, unpacked);
    const repacked = path.join(dir, 'repacked.tar.gz');
    writeFileSync(repacked, gzipSync(await tarOf(names.filter((n) => n !== 'meshctl-bundle.json').map((n) => ({ name: `./${n}`, data: readFileSync(path.join(unpacked, n)) })))));
    const r = await runCli(['proxy-config', 'clusters', POD_REF, '--bundle', repacked]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /reviews\.default\.svc\.cluster\.local +9080 /);
  });

  test('the unpacked directory reads the same, and a changed member is caught by its checksum', async () => {
    const d = path.join(dir, 'dir');
    await unpack(good, d);
    const r = await runCli(['proxy-config', 'clusters', POD_REF, '--bundle', d]);
    assert.equal(r.code, 0, r.stderr);
    const member = path.join(d, 'pods', 'shop', POD_NAME, 'config_dump.json');
    writeFileSync(member, readFileSync(member, 'utf8').replace('"BlackHoleCluster"', '"WhiteHoleCluster"'));
    const bad = await runCli(['proxy-config', 'clusters', POD_REF, '--bundle', d]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, new RegExp(`^Error: bundle .*dir is damaged: member pods/shop/${POD_NAME}/config_dump.json does not match its SHA-256 in the index\\n$`));
  });

  test('what the bundle does not hold is said, never answered empty', async () => {
    const a = await runCli(['proxy-config', 'endpoints', POD_REF, '--bundle', good]);
    assert.equal(a.code, 1);
    assert.match(a.stderr, /has no answer to GET \/clusters\?format=json on port 15000 of pod web-1\.shop \(it holds GET \/config_dump\?include_eds\)/);
    const b = await runCli(['proxy-config', 'clusters', 'web-1.other', '--bundle', good]);
    assert.match(b.stderr, /holds no pods of namespace other \(it holds those of shop\)/);
    const c = await runCli(['proxy-status', '--bundle', good]);
    assert.equal(c.code, 1);
    assert.ok(isOneLineError(c.stderr), c.stderr);
  });
});

describe('hostile and broken bundles are refused with one line, and nothing is written', () => {
  const cases: { name: string; make: () => Promise<Buffer | string>; expect: RegExp }[] = [
    { name: 'empty file', make: async () => Buffer.alloc(0), expect: /file is empty/ },
    { name: 'not gzip', make: async () => Buffer.from('hello, this is not a bundle\n'), expect: /not a gzip file/ },
    { name: 'gzip, not tar', make: async () => gz(Buffer.from('{"configs": []}\n'.repeat(100))), expect: /a gzip file, but not a tar archive inside/ },
    { name: 'tar.gz without index', make: async () => gz(await tarOf([{ name: 'a.json', data: Buffer.from('{}') }])), expect: /not a meshctl bundle \(no index\.json/ },
    { name: 'path traversal', make: async () => gz(await tarOf([{ name: '../../etc/evil', data: Buffer.from('x') }])), expect: /member "\.\.\/\.\.\/etc\/evil" has a "\.\." path segment \(path traversal\); refusing the bundle/ },
    { name: 'absolute name', make: async () => gz(await tarOf([{ name: '/etc/passwd', data: Buffer.from('x') }])), expect: /member "\/etc\/passwd" has an absolute path/ },
    { name: 'symlink', make: async () => gz(await tarOf([{ name: 'index.json', type: 'symlink', linkname: '/etc/shadow' }])), expect: /member "index\.json" is a symbolic link \(to "\/etc\/shadow"\): a bundle holds regular files only/ },
    { name: 'hard link', make: async () => gz(await tarOf([{ name: 'index.json', type: 'link', linkname: '/etc/shadow' }])), expect: /is a hard link/ },
    { name: 'device', make: async () => gz(await tarOf([{ name: 'index.json', type: 'character-device' }])), expect: /is a character-device entry/ },
    { name: 'huge member', make: async () => gz(Buffer.concat([hugeHeader('pods/x/config_dump.json', 10 * 1024 ** 3), Buffer.alloc(4096)])), expect: /member "pods\/x\/config_dump\.json" declares 10240 MiB, more than any member may hold/ },
    {
      name: 'zip bomb',
      make: async () => gz(Buffer.concat([hugeHeader('pods/x/config_dump.json', 400 * 1024 * 1024), Buffer.alloc(64 * 1024 * 1024)])),
      expect: new RegExp(`member pods/x/config_dump\\.json inflates more than ${LIMITS.ratio} times .*: a zip bomb\\? refusing to read on`),
    },
    {
      name: 'index in traversal',
      make: async () => {
        const list = Buffer.from(podList());
        return gz(await tarOf([{ name: 'resources/shop/pods.json', data: list }, { name: 'index.json', data: indexFor({ 'resources/shop/pods.json': list, '../../outside.json': Buffer.from('x') }) }]));
      },
      expect: /member "\.\.\/\.\.\/outside\.json" has a "\.\." path segment/,
    },
    {
      name: 'index from the future',
      make: async () => gz(await tarOf([{ name: 'index.json', data: indexFor({}, { version: 99 }) }])),
      expect: /bundle format version 99 is newer than this meshctl reads \(1\); upgrade meshctl/,
    },
    { name: 'index not JSON', make: async () => gz(await tarOf([{ name: 'index.json', data: Buffer.from('{"format": "meshctl-bundle", ') }])), expect: /index\.json: not valid JSON \(the bundle is damaged\)/ },
    { name: 'truncated', make: async () => readFileSync(good).subarray(0, Math.floor(readFileSync(good).length * 0.6)), expect: /is truncated: its index starts at byte \d+, past the end of the file/ },
    {
      name: 'a member zeroed from its middle on',
      make: async () => {
        const buf = Buffer.from(readFileSync(good));
        const r = await openBundle(good);
        const info = r.index.members[`pods/shop/${POD_NAME}/config_dump.json`];
        // the dump is the last member before the index, which starts where the locator says
        const indexAt = (JSON.parse(gunzipFirst(buf)) as { indexOffset: number }).indexOffset;
        buf.fill(0, info.offset! + 2000, indexAt);
        return buf;
      },
      expect: new RegExp(`bundle .* is (damaged|truncated).*member pods/shop/${POD_NAME}/config_dump\\.json`),
    },
    {
      name: 'a flipped byte in a member',
      make: async () => {
        const buf = Buffer.from(readFileSync(good));
        const r = await openBundle(good);
        const info = r.index.members[`pods/shop/${POD_NAME}/config_dump.json`];
        buf[info.offset! + 400] ^= 0xff;
        return buf;
      },
      expect: new RegExp(`bundle .* is damaged (inside |at |after )?member pods/shop/${POD_NAME}/config_dump\\.json|member pods/shop/${POD_NAME}/config_dump\\.json (does not match|is not at|has)`),
    },
  ];

  test('each refused with one line naming the problem', async (t) => {
    const files = await Promise.all(cases.map(async (c, i) => {
      const f = path.join(dir, 'hostile', `case-${i}.tar.gz`);
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, await c.make());
      return f;
    }));
    const before = readdirSync(path.join(dir, 'hostile')).sort();
    const results = await pool(cases, 3, (c) => runCli(['proxy-config', 'clusters', POD_REF, '--bundle', files[cases.indexOf(c)]], { cwd: path.join(dir, 'hostile') }));
    results.forEach((r, i) => {
      assert.equal(r.code, 1, `${cases[i].name}: exit ${r.code}: ${r.stderr}`);
      assert.ok(isOneLineError(r.stderr), `${cases[i].name}: ${JSON.stringify(r.stderr)}`);
      assert.match(r.stderr, cases[i].expect, cases[i].name);
    });
    assert.deepEqual(readdirSync(path.join(dir, 'hostile')).sort(), before, 'a file appeared beside the bundles');
    t.diagnostic(`${cases.length} hostile or broken bundles refused`);
  });

  test('a directory bundle: a symlinked member, a link out of the directory, no index', async () => {
    const d = path.join(dir, 'dir-hostile');
    await unpack(good, d);
    const member = path.join(d, 'pods', 'shop', POD_NAME, 'config_dump.json');
    writeFileSync(path.join(dir, 'dump.json'), readFileSync(member));
    rmSync(member);
    symlinkSync('/etc/hostname', member);
    const a = await runCli(['proxy-config', 'clusters', POD_REF, '--bundle', d]);
    assert.match(a.stderr, /^Error: bundle .*: member pods\/shop\/web-1\/config_dump\.json is a symbolic link; a bundle holds regular files only; refusing it\n$/);
    rmSync(path.join(d, 'pods'), { recursive: true });
    // a directory outside the bundle holding a copy of the member: found through a linked parent
    const outside = path.join(dir, 'outside');
    mkdirSync(path.join(outside, 'web-1'), { recursive: true });
    writeFileSync(path.join(outside, 'web-1', 'config_dump.json'), readFileSync(path.join(dir, 'dump.json')));
    mkdirSync(path.join(d, 'pods'));
    symlinkSync(outside, path.join(d, 'pods', 'shop'));
    const b = await runCli(['proxy-config', 'clusters', POD_REF, '--bundle', d]);
    assert.match(b.stderr, /resolves outside the bundle directory; refusing it\n$/);
    const e = await runCli(['proxy-config', 'clusters', POD_REF, '--bundle', path.join(dir, 'hostile')]);
    assert.match(e.stderr, /not a meshctl bundle directory \(no index\.json/);
    const f = await runCli(['proxy-config', 'clusters', POD_REF, '--bundle', path.join(dir, 'missing.tar.gz')]);
    assert.match(f.stderr, /^Error: bundle .*missing\.tar\.gz: no such file or directory\n$/);
  });
});

/** The locator's JSON: the first gzip member (stored, so its length is known), past its 512-byte tar header. */
function gunzipFirst(buf: Buffer): string {
  const tar = gunzipSync(buf.subarray(0, 1500), { finishFlush: 2 /* Z_SYNC_FLUSH: stop quietly at the end */ });
  return tar.subarray(512, 512 + 200).toString('utf8').replace(/\0+$/, '');
}
