/**
 * Envoy's URI template path matching (envoy.path.match.uri_template): `/v1/{id}/**`, `{name=*}` one
 * segment, `{name=**}` / `**` any number of segments, an optional literal suffix after the last segment.
 */

// RFC 3986 pchar without '*' and '=' (what Envoy's template library accepts in a segment).
const LITERAL = "a-zA-Z0-9\\-._~%!$&'()+,;:@";
const PATH_GLOB = `[${LITERAL}]+`;
const TEXT_GLOB = `[${LITERAL}/]*`;

export class UriTemplateError extends Error {}

export interface UriTemplate {
  template: string;
  fullMatch(path: string): boolean;
  /** Variable values of a match, or null. */
  variables(path: string): Record<string, string> | null;
}

const cache = new Map<string, UriTemplate | UriTemplateError>();

export function compileUriTemplate(template: string): UriTemplate | UriTemplateError {
  const hit = cache.get(template);
  if (hit) return hit;
  let result: UriTemplate | UriTemplateError;
  try {
    const re = new RegExp(`^${toRegex(template)}$`);
    result = {
      template,
      fullMatch: (p) => re.test(p),
      variables: (p) => {
        const m = re.exec(p);
        return m ? { ...(m.groups ?? {}) } : null;
      },
    };
  } catch (err) {
    result = err instanceof UriTemplateError ? err : new UriTemplateError(`uri template ${template}: ${(err as Error).message}`);
  }
  cache.set(template, result);
  return result;
}

function escapeLiteral(s: string): string {
  return s.replace(/[$()+.]/g, (c) => '\\' + c);
}

function toRegex(template: string): string {
  const bad = (why: string) => new UriTemplateError(`uri template ${JSON.stringify(template)}: ${why}`);
  if (!/^\/[\x21-\x7e]*$/.test(template)) throw bad('must start with / and hold only printable characters');
  const literalOk = (s: string) => new RegExp(`^[${LITERAL}]+$`).test(s);
  let rest = template.slice(1);
  const parts: string[] = [];
  let suffix = '';
  const names = new Set<string>();
  let seenTextGlob = false;
  const glob = (op: string) => {
    if (seenTextGlob) throw bad('glob after a ** glob');
    if (op === '**') seenTextGlob = true;
    return op === '**' ? TEXT_GLOB : PATH_GLOB;
  };
  while (rest.length) {
    let seg: string;
    if (rest.startsWith('**')) {
      seg = glob('**');
      rest = rest.slice(2);
    } else if (rest.startsWith('*')) {
      seg = glob('*');
      rest = rest.slice(1);
    } else if (rest.startsWith('{')) {
      const close = rest.indexOf('}');
      if (close === -1) throw bad('unmatched {');
      const body = rest.slice(1, close);
      rest = rest.slice(close + 1);
      const [name, match] = body.split(/=(.*)/s, 2);
      if (!/^[a-zA-Z][a-zA-Z0-9_]{0,15}$/.test(name)) throw bad(`invalid variable name ${JSON.stringify(name)}`);
      if (names.has(name)) throw bad(`repeated variable ${name}`);
      names.add(name);
      if (names.size > 5) throw bad('more than 5 variables');
      let inner: string;
      if (match === undefined) inner = glob('*');
      else {
        if (!match) throw bad('empty variable match');
        inner = match
          .split('/')
          .map((p) => {
            if (p === '*' || p === '**') return glob(p);
            if (!literalOk(p)) throw bad(`invalid literal ${JSON.stringify(p)}`);
            return escapeLiteral(p);
          })
          .join('/');
      }
      seg = `(?<${name}>${inner})`;
    } else {
      const lit = rest.split('/', 1)[0];
      if (!literalOk(lit)) throw bad(`invalid literal ${JSON.stringify(lit)}`);
      seg = escapeLiteral(lit);
      rest = rest.slice(lit.length);
    }
    parts.push(seg);
    if (!rest.length) break;
    if (rest === '/') {
      parts.push('');
      break;
    }
    if (rest.startsWith('/')) {
      rest = rest.slice(1);
      continue;
    }
    // A literal directly after a glob or variable is a suffix and must end the template.
    if (rest.includes('/') || !literalOk(rest)) throw bad('a suffix must be the last part');
    suffix = escapeLiteral(rest);
    break;
  }
  return '/' + parts.join('/') + suffix;
}

/** Rewrites a matched path with `path_template_rewrite` (`/v2/{id}`); null when the template does not match. */
export function rewriteUriTemplate(matchTemplate: string, rewrite: string, path: string): string | null | UriTemplateError {
  const t = compileUriTemplate(matchTemplate);
  if (t instanceof UriTemplateError) return t;
  const vars = t.variables(path);
  if (!vars) return null;
  let missing: string | null = null;
  const out = rewrite.replace(/\{([^}]*)\}/g, (_m, name: string) => {
    if (!(name in vars)) missing = name;
    return vars[name] ?? '';
  });
  if (missing !== null) return new UriTemplateError(`path_template_rewrite ${rewrite}: variable ${missing} is not captured by ${matchTemplate}`);
  return out;
}
