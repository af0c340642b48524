/** Label and field selectors as the API server evaluates them (the subset meshctl and kubectl send). */

type Labels = Record<string, string>;

export function matchesLabelSelector(labels: Labels, selector: string | null): boolean {
  if (!selector) return true;
  return splitTopLevel(selector).every((term) => matchTerm(labels, term.trim()));
}

function matchTerm(labels: Labels, term: string): boolean {
  let m: RegExpExecArray | null;
  if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
    const values = m[3].split(',').map((v) => v.trim());
    const has = m[1] in labels && values.includes(labels[m[1]]);
    return m[2] === 'in' ? has : !has;
  }
  if ((m = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term))) return labels[m[1]] !== m[2];
  if ((m = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term))) return labels[m[1]] === m[2];
  if (term.startsWith('!')) return !(term.slice(1) in labels);
  return term in labels;
}

function splitTopLevel(s: string): string[] {
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
  return out.filter((t) => t.trim() !== '');
}

export function matchesFieldSelector(obj: unknown, selector: string | null): boolean {
  if (!selector) return true;
  return splitTopLevel(selector).every((term) => {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term.trim());
    if (!m) return false;
    const value = String(m[1].split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj) ?? '');
    return m[2] === '!=' ? value !== m[3] : value === m[3];
  });
}
