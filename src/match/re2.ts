/**
 * Envoy's regexes are Google RE2. JavaScript's engine differs in small but real ways (Unicode \s, inline
 * flags, lone braces, \Q..\E, POSIX classes, backreferences), so a pattern is translated, not reused:
 * constructs RE2 refuses are refused here too (Envoy would have rejected the config), and constructs we
 * cannot reproduce are reported instead of approximated.
 */

export class Re2Error extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`regex ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'Re2Error';
  }
}

export interface Re2 {
  pattern: string;
  /** Full match, as Envoy's safe_regex matchers use (RE2::FullMatch). */
  fullMatch(s: string): boolean;
  /** RE2::GlobalReplace with `\0`..`\9` in the substitution (regex_rewrite). */
  replaceAll(s: string, substitution: string): string;
  /** Named and numbered captures of a full match, or null. */
  captures(s: string): RegExpExecArray | null;
}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

// RE2's \s is ASCII-only; JavaScript's includes Unicode spaces.
const SPACE = '\\t\\n\\f\\r ';
const NOT_SPACE = '\\x00-\\x08\\x0B\\x0E-\\x1F\\x21-\\u{10FFFF}';
const GENERAL_CATEGORIES = new Set([
  'C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
]);
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const MAX_REPEAT = 1000;

const cache = new Map<string, Re2>();

/** Compiles (and caches) an RE2 pattern; throws Re2Error for what RE2 refuses or we cannot reproduce. */
export function compileRe2(pattern: string): Re2 {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const { source, flags } = translate(pattern);
  let anchored: RegExp;
  let global: RegExp;
  try {
    // Lookarounds instead of ^/$: they stay absolute even when (?m) turned on the m flag.
    anchored = new RegExp(`(?<![\\s\\S])(?:${source})(?![\\s\\S])`, flags + 'u');
    global = new RegExp(source, flags + 'gu');
  } catch (err) {
    throw new Re2Error(pattern, `cannot be evaluated here (${(err as Error).message})`);
  }
  const re: Re2 = {
    pattern,
    fullMatch: (s) => anchored.test(s),
    captures: (s) => anchored.exec(s),
    replaceAll: (s, substitution) =>
      s.replace(global, (...args: unknown[]) => {
        const groups = args.slice(0, -2).filter((a) => typeof a === 'string' || a === undefined) as (string | undefined)[];
        return substitution.replace(/\\(\d|\\)/g, (_m, d: string) => (d === '\\' ? '\\' : (groups[Number(d)] ?? '')));
      }),
  };
  if (cache.size > 10_000) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** A compiled regex, or the reason it cannot be used (for explanations instead of exceptions). */
export function tryCompileRe2(pattern: string): Re2 | Re2Error {
  try {
    return compileRe2(pattern);
  } catch (err) {
    if (err instanceof Re2Error) return err;
    throw err;
  }
}

function translate(pattern: string): { source: string; flags: string } {
  let i = 0;
  let flags = '';
  // Leading flag groups like (?i) or (?is) apply to the whole pattern: JS flags can express them.
  for (;;) {
    const m = /^\(\?([imsU]+)\)/.exec(pattern.slice(i));
    if (!m) break;
    for (const f of m[1]) {
      if (f === 'U') throw new Re2Error(pattern, 'the (?U) ungreedy flag cannot be reproduced in JavaScript');
      if (!flags.includes(f)) flags += f;
    }
    i += m[0].length;
  }
  let out = '';
  let depth = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      const { text, next } = escape(pattern, i, false);
      out += text;
      i = next;
    } else if (c === '[') {
      const { text, next } = charClass(pattern, i);
      out += text;
      i = next;
    } else if (c === '(') {
      if (pattern.startsWith('(?P<', i)) {
        out += '(?<';
        i += 4;
      } else if (pattern.startsWith('(?P=', i)) {
        throw new Re2Error(pattern, 'backreferences are not supported by RE2');
      } else if (pattern.startsWith('(?=', i) || pattern.startsWith('(?!', i) || pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) {
        throw new Re2Error(pattern, 'lookahead/lookbehind assertions are not supported by RE2');
      } else if (pattern.startsWith('(?:', i) || pattern.startsWith('(?<', i)) {
        out += pattern.slice(i, i + 3);
        i += 3;
      } else if (pattern.startsWith('(?', i)) {
        const m = /^\(\?([imsU-]*)(\)|:)/.exec(pattern.slice(i));
        if (m) throw new Re2Error(pattern, `inline flag group ${m[0]} inside the pattern cannot be reproduced in JavaScript`);
        throw new Re2Error(pattern, `invalid or unsupported group ${pattern.slice(i, i + 4)}`);
      } else {
        out += '(';
        i++;
      }
      depth++;
    } else if (c === ')') {
      if (depth === 0) throw new Re2Error(pattern, 'unmatched )');
      depth--;
      out += ')';
      i++;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (m) {
        const lo = Number(m[1]);
        const hi = m[3] ? Number(m[3]) : lo;
        if (lo > MAX_REPEAT || hi > MAX_REPEAT) throw new Re2Error(pattern, `repetition count over ${MAX_REPEAT}`);
        if (m[3] && hi < lo) throw new Re2Error(pattern, `invalid repetition ${m[0]}`);
        out += m[0];
        i += m[0].length;
      } else {
        out += '\\{'; // RE2 treats a brace that starts no repetition as a literal
        i++;
      }
    } else if (c === '}' || c === ']') {
      out += '\\' + c;
      i++;
    } else if (c === '/') {
      out += '\\/';
      i++;
    } else {
      out += c;
      i++;
    }
  }
  if (depth !== 0) throw new Re2Error(pattern, 'missing )');
  return { source: out, flags };
}

function escape(pattern: string, i: number, inClass: boolean): { text: string; next: number } {
  const e = pattern[i + 1];
  if (e === undefined) throw new Re2Error(pattern, 'trailing backslash');
  const next = i + 2;
  if (e === 'Q') {
    const end = pattern.indexOf('\\E', next);
    const literal = end === -1 ? pattern.slice(next) : pattern.slice(next, end);
    const text = [...literal].map((ch) => literalChar(ch, inClass)).join('');
    return { text, next: end === -1 ? pattern.length : end + 2 };
  }
  if (/[1-9]/.test(e)) {
    // RE2 reads \1..\7 followed by digits as octal only after \0; a single \N is a backreference.
    throw new Re2Error(pattern, `backreference \\${e} is not supported by RE2`);
  }
  switch (e) {
    case 'A':
      if (inClass) throw new Re2Error(pattern, '\\A inside a character class');
      return { text: '(?<![\\s\\S])', next };
    case 'z':
      if (inClass) throw new Re2Error(pattern, '\\z inside a character class');
      return { text: '(?![\\s\\S])', next };
    case 'Z':
      throw new Re2Error(pattern, '\\Z is not supported by RE2 (use \\z)');
    case 'C':
      throw new Re2Error(pattern, '\\C (any byte) cannot be reproduced in JavaScript');
    case 'b':
    case 'B':
      if (inClass) throw new Re2Error(pattern, `\\${e} inside a character class`);
      return { text: '\\' + e, next };
    case 's':
      return { text: inClass ? SPACE : `[${SPACE}]`, next };
    case 'S':
      // Inside a class, the complement of RE2's ASCII \s spelled out as ranges.
      return { text: inClass ? NOT_SPACE : `[^${SPACE}]`, next };
    case 'd':
    case 'D':
    case 'w':
    case 'W':
    case 't':
    case 'n':
    case 'r':
    case 'f':
    case 'v':
      return { text: '\\' + e, next };
    case 'a':
      return { text: '\\x07', next };
    case '0': {
      const m = /^[0-7]{0,2}/.exec(pattern.slice(next))![0];
      return { text: `\\u{${parseInt('0' + m, 8).toString(16)}}`, next: next + m.length };
    }
    case 'x': {
      if (pattern[next] === '{') {
        const end = pattern.indexOf('}', next);
        const hex = end === -1 ? '' : pattern.slice(next + 1, end);
        if (!/^[0-9A-Fa-f]{1,6}$/.test(hex)) throw new Re2Error(pattern, 'invalid \\x{...} escape');
        return { text: `\\u{${hex}}`, next: end + 1 };
      }
      const hex = pattern.slice(next, next + 2);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new Re2Error(pattern, 'invalid \\x escape');
      return { text: '\\x' + hex, next: next + 2 };
    }
    case 'p':
    case 'P': {
      let name: string;
      let end: number;
      if (pattern[next] === '{') {
        end = pattern.indexOf('}', next);
        if (end === -1) throw new Re2Error(pattern, 'unterminated \\p{...}');
        name = pattern.slice(next + 1, end);
        end++;
      } else {
        name = pattern[next] ?? '';
        end = next + 1;
      }
      let negate = e === 'P';
      if (name.startsWith('^')) {
        negate = !negate;
        name = name.slice(1);
      }
      if (!name) throw new Re2Error(pattern, 'empty \\p class');
      const prop = name === 'Any' ? null : GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`;
      if (prop === null) return { text: negate ? '[^\\s\\S]' : '[\\s\\S]', next: end };
      try {
        new RegExp(`\\p{${prop}}`, 'u');
      } catch {
        throw new Re2Error(pattern, `unknown Unicode class \\p{${name}}`);
      }
      return { text: `\\${negate ? 'P' : 'p'}{${prop}}`, next: end };
    }
    default:
      if (/[A-Za-z]/.test(e)) throw new Re2Error(pattern, `invalid escape \\${e}`);
      return { text: literalChar(e, inClass), next };
  }
}

function literalChar(ch: string, inClass: boolean): string {
  if (JS_SYNTAX.has(ch) || (inClass && ch === '-')) return '\\' + ch;
  return ch;
}

function charClass(pattern: string, start: number): { text: string; next: number } {
  let i = start + 1;
  let out = '[';
  if (pattern[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === ']' && !first) return { text: out + ']', next: i + 1 };
    first = false;
    if (c === '[' && pattern[i + 1] === ':') {
      const end = pattern.indexOf(':]', i + 2);
      if (end === -1) throw new Re2Error(pattern, 'unterminated POSIX class');
      let name = pattern.slice(i + 2, end);
      const negated = name.startsWith('^');
      if (negated) name = name.slice(1);
      const body = POSIX[name];
      if (!body) throw new Re2Error(pattern, `unknown POSIX class [:${name}:]`);
      if (negated) throw new Re2Error(pattern, `negated POSIX class [:^${name}:] cannot be reproduced here`);
      out += body;
      i = end + 2;
    } else if (c === '\\') {
      const { text, next } = escape(pattern, i, true);
      out += text;
      i = next;
    } else if (c === '[' || c === ']' || c === '/') {
      out += '\\' + c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  throw new Re2Error(pattern, 'missing ]');
}
