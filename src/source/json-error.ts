/**
 * Finds where a JSON text first goes wrong. Node 20's JSON.parse messages often carry no position
 * ("Unexpected token 'o', ...is not valid JSON"), and a user with a 100 MB dump needs a line number.
 * Runs only after JSON.parse has failed; iterative so deeply nested input cannot overflow the stack.
 */
export interface JsonErrorLocation {
  offset: number;
  /** The text ended while a value was still open. */
  truncated: boolean;
  expected: string;
}

export function locateJsonError(text: string): JsonErrorLocation | null {
  let i = 0;
  const n = text.length;
  // stack of open containers: '{' or '['
  const stack: string[] = [];
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (expected: string): JsonErrorLocation => ({ offset: i, truncated: i >= n, expected });
  const value = (): JsonErrorLocation | 'open' | null => {
    ws();
    if (i >= n) return fail('a value');
    const c = text[i];
    if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      return 'open';
    }
    if (c === '"') return string();
    const lit = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (lit) {
      i += lit[0].length;
      return null;
    }
    return fail('a value');
  };
  const string = (): JsonErrorLocation | null => {
    i++;
    while (i < n) {
      const c = text[i];
      if (c === '"') {
        i++;
        return null;
      }
      if (c === '\\') i += 2;
      else if (text.charCodeAt(i) < 0x20) return fail('a closing quote');
      else i++;
    }
    return fail('a closing quote');
  };
  // after '{' or ',' inside an object: key, colon, value
  const member = (): JsonErrorLocation | 'open' | null => {
    ws();
    if (text[i] !== '"') return fail('a quoted key');
    const s = string();
    if (s) return s;
    ws();
    if (text[i] !== ':') return fail("':'");
    i++;
    return value();
  };

  let r = value();
  for (;;) {
    if (r && r !== 'open') return r;
    if (r === 'open') {
      // just opened a container: it may close at once
      ws();
      const top = stack[stack.length - 1];
      if (text[i] === (top === '{' ? '}' : ']')) {
        i++;
        stack.pop();
      } else {
        r = top === '{' ? member() : value();
        continue;
      }
    }
    if (stack.length === 0) {
      ws();
      return i < n ? fail('end of input') : null;
    }
    ws();
    const top = stack[stack.length - 1];
    const close = top === '{' ? '}' : ']';
    if (text[i] === ',') {
      i++;
      r = top === '{' ? member() : value();
    } else if (text[i] === close) {
      i++;
      stack.pop();
      r = null;
    } else {
      return fail(`',' or '${close}'`);
    }
  }
}
