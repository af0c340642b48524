import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Re2Error, compileRe2, tryCompileRe2 } from '../../src/match/re2.js';

test('RE2 patterns are full-matched, never searched', () => {
  assert.equal(compileRe2('/api/.*').fullMatch('/api/v1'), true);
  assert.equal(compileRe2('/api').fullMatch('/api/v1'), false);
  assert.equal(compileRe2('a|b').fullMatch('ab'), false, 'alternation is anchored as a whole');
  assert.equal(compileRe2('a|b').fullMatch('b'), true);
});

test('RE2 syntax JavaScript lacks is translated', () => {
  assert.equal(compileRe2('(?P<ver>v[0-9]+)').captures('v12')?.groups?.ver, 'v12');
  assert.equal(compileRe2('\\Qa.b\\E').fullMatch('a.b'), true);
  assert.equal(compileRe2('\\Qa.b\\E').fullMatch('axb'), false);
  assert.equal(compileRe2('[[:digit:]]+').fullMatch('123'), true);
  assert.equal(compileRe2('(?i)abc').fullMatch('ABC'), true);
  assert.equal(compileRe2('\\Aab\\z').fullMatch('ab'), true);
  assert.equal(compileRe2('a{,2}').fullMatch('a{,2}'), true, 'a brace that starts no repetition is literal');
  assert.equal(compileRe2('x\\-y').fullMatch('x-y'), true);
  assert.equal(compileRe2('\\pL+').fullMatch('héllo'), true);
  assert.equal(compileRe2('\\x{41}').fullMatch('A'), true);
});

test('RE2 \\s is ASCII whitespace only', () => {
  assert.equal(compileRe2('[\\s\\S]+').fullMatch('a b\nc'), true);
  assert.equal(compileRe2('[^\\S]').fullMatch(' '), true);
  assert.equal(compileRe2('[^\\S]').fullMatch('x'), false);
  assert.equal(compileRe2('[\\w-]+').fullMatch('a-b_c'), true);
  assert.equal(compileRe2('a\\sb').fullMatch('a b'), true);
  assert.equal(compileRe2('a\\sb').fullMatch('a\u00a0b'), false);
});

test('constructs RE2 refuses are refused, with the reason', () => {
  for (const [p, why] of [
    ['(a)\\1', /backreference/],
    ['foo(?=bar)', /lookahead/],
    ['(?<!x)y', /lookahead\/lookbehind/],
    ['a{1001}', /repetition/],
    ['(?i:a)b', /inline flag group/],
    ['\\Z', /\\Z/],
    ['(a', /missing \)/],
  ] as const) {
    const r = tryCompileRe2(p);
    assert.ok(r instanceof Re2Error, `${p} should be refused`);
    assert.match(r.message, why);
  }
});

test('regex_rewrite substitutes \\N groups in every match', () => {
  assert.equal(compileRe2('([a-z])([0-9])').replaceAll('a1-b2', '\\2\\1'), '1a-2b');
  assert.equal(compileRe2('o').replaceAll('foo', '0'), 'f00');
  assert.equal(compileRe2('^/x/(.*)$').replaceAll('/x/y/z', '/\\1/\\0'), '/y/z//x/y/z');
});
