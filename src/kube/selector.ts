import { UsageError } from '../errors.js';

/**
 * Label selectors in the API server's string form (`app=x,tier!=db,env in (a,b),!legacy,team`), parsed
 * once and evaluated locally: a bundle answers `list pods -l …` the way the API server would have.
 */
export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]{0,61}[a-z0-9A-Z])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Parses a selector; `flag` names where it came from in the usage error (e.g. `-l`). */
export function parseLabelSelector(text: string, flag = '-l'): Requirement[] {
  const out: Requirement[] = [];
  for (const raw of splitTerms(text)) {
    const term = raw.trim();
    if (term === '') continue;
    const bad = (why: string) => new UsageError(`${flag} ${JSON.stringify(text)}: ${why} in "${term}"`);
    let m: RegExpExecArray | null;
    let req: Requirement;
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term))) {
      const values = m[3].split(',').map((v) => v.trim());
      if (values.some((v) => !VALUE.test(v))) throw bad('a value is not a valid label value');
      req = { key: m[1], op: m[2] as 'in' | 'notin', values };
    } else if ((m = /^([^!=\s]+)\s*!=\s*(\S*)$/.exec(term))) {
      req = { key: m[1], op: 'notin', values: [m[2]] };
      if (!VALUE.test(m[2])) throw bad('not a valid label value');
    } else if ((m = /^([^!=\s]+)\s*==?\s*(\S*)$/.exec(term))) {
      req = { key: m[1], op: 'in', values: [m[2]] };
      if (!VALUE.test(m[2])) throw bad('not a valid label value');
    } else if ((m = /^!\s*(\S+)$/.exec(term))) {
      req = { key: m[1], op: '!exists' };
    } else if (/^\S+$/.test(term)) {
      req = { key: term, op: 'exists' };
    } else {
      throw bad('not a selector term (key=value, key!=value, key in (a,b), key, !key)');
    }
    if (!KEY.test(req.key)) throw bad(`"${req.key}" is not a valid label key`);
    out.push(req);
  }
  return out;
}

export function matchesLabels(requirements: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'in':
        return has && r.values.includes(l[r.key]);
      case 'notin':
        return !has || !r.values.includes(l[r.key]);
      case 'exists':
        return has;
      case '!exists':
        return !has;
    }
  });
}

/** Commas separate terms, except inside `in (a,b)`. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}
