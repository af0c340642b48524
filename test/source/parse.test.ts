import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { MeshctlError } from '../../src/errors.js';
import { readInput } from '../../src/source/file.js';
import { parseDocument, parseDocuments } from '../../src/source/parse.js';
import { scratchDir } from '../helpers.js';

const tmp = scratchDir('meshctl-parse-');

test('JSON and YAML both parse', () => {
  assert.deepEqual(parseDocument({ name: 'a', text: '{"a": 1}' }), { a: 1 });
  assert.deepEqual(parseDocument({ name: 'a', text: 'a: 1\nb: [x]\n' }), { a: 1, b: ['x'] });
  assert.equal(parseDocuments({ name: 'a', text: 'a: 1\n---\nb: 2\n' }).length, 2);
});

test('truncated JSON is named as truncated, with the file name', () => {
  assert.throws(
    () => parseDocument({ name: 'dump.json', text: '{"configs": [{"@type": "x"' }),
    (err: unknown) => err instanceof MeshctlError && /^dump\.json: truncated JSON/.test(err.message),
  );
});

test('invalid JSON gives line and column', () => {
  assert.throws(
    () => parseDocument({ name: 'd.json', text: '{\n  "a": 1,\n  "b": nope\n}' }),
    (err: unknown) => err instanceof MeshctlError && /d\.json: invalid JSON at line 3/.test(err.message),
  );
});

test('invalid YAML gives line', () => {
  assert.throws(
    () => parseDocument({ name: 'x.yaml', text: 'a: [1, 2\nb: 3\n' }),
    (err: unknown) => err instanceof MeshctlError && /x\.yaml: not valid JSON or YAML: .* at line \d+/.test(err.message),
  );
});

test('missing file, directory, empty file and binary are clear errors', async () => {
  await assert.rejects(readInput(path.join(tmp, 'nope.json')), /nope\.json: no such file/);
  await assert.rejects(readInput(tmp), /is a directory/);
  const empty = path.join(tmp, 'empty.json');
  writeFileSync(empty, '');
  await assert.rejects(readInput(empty), /empty\.json: file is empty/);
  const bin = path.join(tmp, 'bin.json');
  writeFileSync(bin, Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x80]));
  await assert.rejects(readInput(bin), /bin\.json: not UTF-8/);
});

test('the JSON error locator agrees with JSON.parse on valid and broken input', async () => {
  const { locateJsonError } = await import('../../src/source/json-error.js');
  for (const ok of ['{}', '[]', '{"a":[1,2,{"b":null}],"c":"x\\"y"}', ' 1 ', '[[[]]]']) {
    assert.equal(locateJsonError(ok), null, ok);
  }
  assert.deepEqual(locateJsonError('{"a":1,}'), { offset: 7, truncated: false, expected: 'a quoted key' });
  assert.equal(locateJsonError('{"a":[1,2')?.truncated, true);
  assert.equal(locateJsonError('{"a":1} x')?.expected, 'end of input');
  assert.equal(locateJsonError('['.repeat(100000))?.truncated, true);
});

test('a YAML alias bomb is refused with a clear error, ordinary anchors still work', () => {
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    levels.push(`${cur}: &${cur} [${Array(9).fill('*' + prev).join(',')}]`);
  }
  assert.throws(
    () => parseDocument({ name: 'bomb.yaml', text: levels.join('\n') + '\n' }),
    (err: unknown) => err instanceof MeshctlError && /bomb\.yaml: YAML aliases expand to more than/.test(err.message),
  );
  assert.deepEqual(parseDocuments({ name: 'ok.yaml', text: 'base: &b {x: 1}\nuse: *b\n' }), [{ base: { x: 1 }, use: { x: 1 } }]);
});

test('duplicate YAML keys are an error with the line, not silently merged', () => {
  assert.throws(
    () => parseDocuments({ name: 'dup.yaml', text: 'kind: Service\nmetadata:\n  name: a\n  name: b\n' }),
    (err: unknown) => err instanceof MeshctlError && /dup\.yaml: not valid YAML: duplicated mapping key at line 4/.test(err.message),
  );
});

test('a large JSON document (parsed with incremental marking off, see parseJson) parses whole, again and again, and errors still name the file', () => {
  const doc = { items: Array.from({ length: 30000 }, (_, i) => ({ name: `item-${i}`, labels: { app: `a${i % 7}` }, ports: [80, 443] })) };
  const text = JSON.stringify(doc);
  assert.ok(text.length > 1024 * 1024);
  for (let round = 0; round < 3; round++) {
    const parsed = parseDocument({ name: 'big.json', text }) as typeof doc;
    assert.equal(parsed.items.length, 30000);
    assert.deepEqual(parsed.items[29999], { name: 'item-29999', labels: { app: 'a4' }, ports: [80, 443] });
  }
  assert.throws(() => parseDocument({ name: 'big.json', text: text.slice(0, -2) }), (e: Error) => e instanceof MeshctlError && e.message.startsWith('big.json: '));
});
