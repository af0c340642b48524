import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fieldLine, loadResources, parseResources } from '../../src/resources/index.js';
import { ROOT, fixture, scratchDir } from '../helpers.js';

test('multi-document YAML: documents, lists and their lines; empty and comment-only documents skipped', async () => {
  const { resources, problems } = await loadResources([fixture('resources', 'multi.yaml')]);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    resources.map((r) => `${r.kind}/${r.name}:${r.origin?.line}`),
    ['Service/one:3', 'ConfigMap/first:18', 'ConfigMap/second:23', 'VirtualService/vs:29'],
  );
  const vs = resources[3];
  assert.equal(vs.namespace, 'shop');
  assert.equal(vs.group, 'networking.istio.io');
  assert.equal(vs.version, 'v1');
  assert.equal(fieldLine(vs, ['spec', 'hosts', 0]), 36);
  assert.equal(fieldLine(vs, ['spec', 'http', 0, 'route', 0, 'destination', 'host']), 43);
  assert.equal(fieldLine(vs, ['spec', 'http', 1, 'route', 0, 'weight']), 47);
  assert.equal(fieldLine(vs, ['spec', 'http', 1]), 44);
  // a path that is not there falls back to the deepest ancestor found
  assert.equal(fieldLine(vs, ['spec', 'http', 7]), 37);
  assert.equal(fieldLine(resources[2], ['metadata', 'name']), 26);
});

test('one broken document is reported with its line and does not hide the others', () => {
  const text = `apiVersion: v1\nkind: Service\nmetadata:\n  name: before\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: after\n---\nkind: Service\nmetadata:\n  name: no-api-version\n---\njust a string\n`;
  const { resources, problems } = parseResources(text, 'x.yaml');
  assert.deepEqual(resources.map((r) => r.name), ['before', 'after']);
  assert.equal(problems.length, 3);
  assert.equal(problems[0].file, 'x.yaml');
  assert.ok(problems[0].line! >= 9 && problems[0].line! <= 10, `line ${problems[0].line}`);
  assert.match(problems[0].message, /invalid YAML/);
  assert.deepEqual(problems.slice(1).map((p) => [p.line, p.message]), [
    [16, 'Service has no apiVersion'],
    [20, 'not a Kubernetes object (expected a mapping with apiVersion and kind)'],
  ]);
});

test('duplicate keys are a problem, not a silent overwrite', () => {
  const { resources, problems } = parseResources('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n', 'dup.yaml');
  assert.equal(resources.length, 0);
  assert.match(problems[0].message, /duplicat/i);
});

test('JSON lists carry each item line, and fields inside JSON are located', async () => {
  const { resources, problems } = await loadResources([fixture('resources', 'list.json')]);
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.map((r) => `${r.name}:${r.origin?.line}`), ['a:5', 'b:10']);
  assert.equal(fieldLine(resources[1], ['spec', 'ports', 0]), 14);
  assert.equal(fieldLine(resources[1], ['metadata', 'annotations', 'x']), 13);
});

test('directories: top level only, or recursive with -R; globs; missing paths are problems', async () => {
  const flat = await loadResources([fixture('resources', 'tree')]);
  assert.deepEqual(flat.resources.map((r) => r.name), ['top']);
  const deep = await loadResources([fixture('resources', 'tree')], { recursive: true });
  assert.deepEqual(deep.resources.map((r) => r.name).sort(), ['nested', 'top']);
  const globbed = await loadResources([fixture('resources', 'tree') + '/**/*.yml']);
  assert.deepEqual(globbed.resources.map((r) => r.name), ['nested']);
  const missing = await loadResources([fixture('resources', 'nope.yaml'), fixture('resources', 'none-*.yaml')]);
  assert.deepEqual(missing.problems.map((p) => p.message), ['no such file or directory', 'no files match this pattern']);
});

test('the same file given twice is read once', async () => {
  const f = fixture('resources', 'list.json');
  const { resources } = await loadResources([f, f]);
  assert.equal(resources.length, 2);
});

test('a list of non-Kubernetes things is reported in a few lines, not one per item', () => {
  const items = Array.from({ length: 50 }, (_, i) => ({ name: `x${i}` }));
  const { resources, problems } = parseResources(JSON.stringify([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ok' } }, ...items], null, 1), 'dump.json');
  assert.deepEqual(resources.map((r) => r.name), ['ok']);
  assert.deepEqual(problems.map((p) => p.message), ['list item 1: object has no kind', 'list item 2: object has no kind', '48 more list items are not Kubernetes objects']);
});

test('dates stay strings and merge keys merge, as Kubernetes reads YAML', () => {
  const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    released: 2024-01-31\ndata:\n  base: &b {a: "1"}\n  merged:\n    <<: *b\n    c: "2"\n';
  const [r] = parseResources(text, 'c.yaml').resources;
  assert.equal(r.metadata.labels?.released, '2024-01-31');
  assert.deepEqual((r.object.data as Record<string, unknown>).merged, { a: '1', c: '2' });
});

test('an empty manifest holds no objects and is not a problem', async (t) => {
  const dir = scratchDir('meshctl-empty-', t);
  writeFileSync(path.join(dir, 'placeholder.yaml'), '');
  const { resources, problems } = await loadResources([dir]);
  assert.deepEqual([resources.length, problems], [0, []]);
});

test('directories: hidden entries skipped, any-case extensions, links followed once, loops end', async (t) => {
  const root = scratchDir('meshctl-walk-', t);
  const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;
  mkdirSync(path.join(root, 'a'));
  mkdirSync(path.join(root, 'b'));
  mkdirSync(path.join(root, '.git'));
  mkdirSync(path.join(root, 'a', '..data'));
  writeFileSync(path.join(root, 'a', 'upper.YAML'), ns('upper'));
  writeFileSync(path.join(root, 'a', 'list.Json'), JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'json' } }));
  writeFileSync(path.join(root, 'a', 'notes.txt'), ns('not-a-manifest'));
  writeFileSync(path.join(root, '.git', 'hidden.yaml'), ns('in-git'));
  writeFileSync(path.join(root, 'a', '..data', 'mounted.yaml'), ns('in-data'));
  writeFileSync(path.join(root, '.hidden.yaml'), ns('hidden'));
  writeFileSync(path.join(root, 'b', 'real.yml'), ns('real'));
  symlinkSync(path.join(root, 'b', 'real.yml'), path.join(root, 'a', 'linked.yaml'));
  symlinkSync(path.join(root, 'a'), path.join(root, 'b', 'again')); // a directory already read
  symlinkSync(root, path.join(root, 'b', 'loop')); // back up the tree
  symlinkSync(path.join(root, 'missing.yaml'), path.join(root, 'b', 'dangling.yaml'));

  symlinkSync(path.join(root, 'b', 'self.yaml'), path.join(root, 'b', 'self.yaml'));
  symlinkSync(path.join(root, 'missing'), path.join(root, 'b', 'dangling-dir')); // not a manifest name: ignored

  const deep = await loadResources([root], { recursive: true });
  // a manifest-named link that leads nowhere may hide a manifest the user meant: say so
  assert.deepEqual(deep.problems.map((p) => [path.relative(root, p.file), p.message]), [
    ['b/dangling.yaml', 'a symbolic link to nothing (its target does not exist)'],
    ['b/self.yaml', 'a symbolic link that loops back on itself'],
  ]);
  assert.deepEqual(
    deep.resources.map((r) => `${path.relative(root, r.origin!.file)}:${r.name}`),
    ['a/linked.yaml:real', 'a/list.Json:json', 'a/upper.YAML:upper', 'b/real.yml:real'],
  );
  const flat = await loadResources([path.join(root, 'a')]);
  assert.deepEqual(flat.resources.map((r) => r.name), ['real', 'json', 'upper']);
});

test('a manifest with a byte-order mark reads as if it had none; binary files are refused', async (t) => {
  const dir = scratchDir('meshctl-bom-', t);
  writeFileSync(path.join(dir, 'bom.yaml'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bom\n')]));
  writeFileSync(path.join(dir, 'blob.yaml'), Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x00, 0x0a]));
  const { resources, problems } = await loadResources([dir]);
  assert.deepEqual(resources.map((r) => [r.name, r.origin?.line]), [['bom', 1]]);
  assert.deepEqual(problems.map((p) => [path.basename(p.file), p.message]), [['blob.yaml', 'not UTF-8 text (binary file?)']]);
});

test('a document may start on its --- line; null and comment-only documents are skipped, lines kept', () => {
  const text = [
    '--- {apiVersion: v1, kind: Namespace, metadata: {name: inline}}',
    '--- # a comment, then the document on the next lines',
    'apiVersion: v1',
    'kind: Namespace',
    'metadata:',
    '  name: two',
    '...',
    '---',
    '~',
    '---',
    'apiVersion: v1',
    'kind: Namespace',
    'metadata:',
    '  name: three',
    '',
  ].join('\n');
  const { resources, problems } = parseResources(text, 'docs.yaml');
  assert.deepEqual(problems, []);
  assert.deepEqual(
    resources.map((r) => [r.name, r.origin?.line, fieldLine(r, ['metadata', 'name'])]),
    [['inline', 1, 1], ['two', 3, 6], ['three', 11, 14]],
  );
});

test('a directory under -R that cannot be read is a problem, not silently skipped', (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'meshctl-unreadable-'));
  mkdirSync(path.join(root, 'locked'));
  t.after(() => {
    chmodSync(path.join(root, 'locked'), 0o755);
    rmSync(root, { recursive: true, force: true });
  });
  writeFileSync(path.join(root, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n');
  chmodSync(root, 0o755);
  chmodSync(path.join(root, 'locked'), 0o000);
  // root reads any directory: run meshctl as nobody then, the way a user without access would
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  if (process.getuid?.() === 0) {
    const cannot = nobodyCannotRun(root);
    if (cannot) {
      chmodSync(path.join(root, 'locked'), 0o755);
      return t.skip(`uid 65534 cannot run meshctl here (${cannot}): a clone under a directory other users cannot enter`);
    }
  }
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'meshctl.js'), 'analyze', '-R', root, '-o', 'json'], { encoding: 'utf8', timeout: 20_000, ...asNobody });
  chmodSync(path.join(root, 'locked'), 0o755);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.split('\n')[0], `Error: ${path.join(root, 'locked')}: cannot read this directory (permission denied)`);
  // the readable manifest is still analyzed
  assert.match(r.stdout, /"code": "IST0102"/);
});

/**
 * Why uid 65534 cannot start meshctl from this clone or list `dir`, or undefined when it can. A clone in
 * a mode-700 home (or a private temp dir) is out of its reach, and Node then fails before meshctl runs.
 */
function nobodyCannotRun(dir: string): string | undefined {
  const opts = { encoding: 'utf8' as const, timeout: 20_000, uid: 65534, gid: 65534 };
  const version = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'meshctl.js'), '--version'], opts);
  if (version.error) return version.error.message;
  if (version.status !== 0) return firstErrorLine(version.stderr) ?? `exit status ${version.status}`;
  const list = spawnSync(process.execPath, ['-e', 'require("node:fs").readdirSync(process.argv[1])', dir], opts);
  if (list.status !== 0) return firstErrorLine(list.stderr) ?? `cannot list ${dir}`;
  return undefined;
}

function firstErrorLine(stderr: string): string | undefined {
  return stderr.split('\n').find((l) => /^\w*Error\b|EACCES|Cannot find/.test(l))?.trim();
}
