/**
 * Finds the line a field sits on inside one YAML (block style) or JSON document, given its path
 * (`['spec', 'http', 0, 'route', 0, 'destination', 'host']`). Only called for resources that have a
 * finding, so the ordinary load path never pays for position tracking. When the path cannot be
 * followed all the way (flow style, anchors), the deepest ancestor found is returned.
 */
export type FieldPath = readonly (string | number)[];

/** 0-based line within `text`, or undefined when not even the first segment was found. */
export function locateField(text: string, path: FieldPath): number | undefined {
  const first = firstContent(text);
  if (first === '{' || first === '[') return locateJson(text, path);
  return locateYaml(text, path);
}

function firstContent(text: string): string | undefined {
  for (const line of text.split('\n', 50)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t === '---') continue;
    return t[0];
  }
  return undefined;
}

// ---- YAML (block style) -------------------------------------------------------------------------

interface Line {
  indent: number;
  content: boolean;
  text: string;
}

interface Node {
  /** Line the node's content starts on. */
  line: number;
  /** Column its content starts at on that line, or -1 when it starts on the following lines. */
  col: number;
  /** First line after the node. */
  end: number;
}

function locateYaml(text: string, path: FieldPath): number | undefined {
  const lines: Line[] = text.split('\n').map((raw) => {
    const t = raw.replace(/\r$/, '');
    const indent = t.length - t.trimStart().length;
    const rest = t.trimStart();
    return { indent, content: rest !== '' && !rest.startsWith('#') && rest !== '---', text: t };
  });
  let node: Node = { line: 0, col: -1, end: lines.length };
  let found: number | undefined;
  for (const seg of path) {
    const next = typeof seg === 'number' ? seqItem(lines, node, seg) : mapKey(lines, node, seg);
    if (!next) return found;
    found = next.keyLine;
    node = next.node;
  }
  return found;
}

/** Column where a node's children start, and the line to begin scanning from. */
function childColumn(lines: Line[], node: Node): { col: number; from: number } | undefined {
  if (node.col >= 0) {
    const rest = lines[node.line].text.slice(node.col);
    if (rest.trim() !== '' && !rest.trim().startsWith('#')) return { col: node.col, from: node.line };
  }
  for (let i = node.line + (node.col >= 0 ? 1 : 0); i < node.end; i++) if (lines[i].content) return { col: lines[i].indent, from: i };
  return undefined;
}

/** Text at column `col` of line `i`, treating the inline start of a node as being at that column. */
function at(lines: Line[], i: number, col: number): string | undefined {
  const l = lines[i];
  if (!l.content) return undefined;
  if (l.indent === col) return l.text.slice(col);
  // the first key of a sequence item sits after "- ", not at the line's indent
  if (l.indent < col && /^\s*(-\s+)+/.test(l.text)) {
    const m = /^(\s*(?:-\s+)+)/.exec(l.text);
    if (m && m[1].length === col) return l.text.slice(col);
  }
  return undefined;
}

function mapKey(lines: Line[], node: Node, key: string): { keyLine: number; node: Node } | undefined {
  const c = childColumn(lines, node);
  if (!c) return undefined;
  const keyRe = new RegExp(`^(?:${escape(key)}|"${escape(key)}"|'${escape(key)}')\\s*:(\\s|$)`);
  for (let i = c.from; i < node.end; i++) {
    const l = lines[i];
    if (!l.content) continue;
    if (i > c.from && l.indent < c.col) break;
    const s = at(lines, i, c.col);
    if (s === undefined || !keyRe.test(s)) continue;
    const valueCol = c.col + s.indexOf(':') + 1;
    // the value runs until a line at or left of the key's column (a sequence may sit at the key's column)
    let end = i + 1;
    for (; end < node.end; end++) {
      const e = lines[end];
      if (!e.content) continue;
      if (e.indent < c.col) break;
      if (e.indent === c.col && !/^-(\s|$)/.test(e.text.slice(c.col))) break;
    }
    return { keyLine: i, node: { line: i, col: valueCol, end } };
  }
  return undefined;
}

function seqItem(lines: Line[], node: Node, index: number): { keyLine: number; node: Node } | undefined {
  const c = childColumn(lines, node);
  if (!c) return undefined;
  const dashes: number[] = [];
  for (let i = c.from; i < node.end; i++) {
    const l = lines[i];
    if (!l.content) continue;
    if (i > c.from && l.indent < c.col) break;
    const s = at(lines, i, c.col);
    if (s !== undefined && /^-(\s|$)/.test(s)) dashes.push(i);
  }
  if (index >= dashes.length) return undefined;
  const line = dashes[index];
  const end = index + 1 < dashes.length ? dashes[index + 1] : lastLine(lines, line, node.end, c.col);
  const s = at(lines, line, c.col) ?? '';
  const afterDash = c.col + 1 + (s.slice(1).length - s.slice(1).trimStart().length);
  return { keyLine: line, node: { line, col: afterDash, end } };
}

function lastLine(lines: Line[], from: number, end: number, col: number): number {
  for (let i = from + 1; i < end; i++) if (lines[i].content && lines[i].indent <= col) return i;
  return end;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

// ---- JSON ---------------------------------------------------------------------------------------

function locateJson(text: string, path: FieldPath): number | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const skipString = () => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const skipValue = () => {
    ws();
    const ch = text[i];
    if (ch === '"') return skipString();
    if (ch === '{' || ch === '[') {
      let depth = 0;
      while (i < text.length) {
        const c = text[i];
        if (c === '"') {
          skipString();
          continue;
        }
        if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') {
          depth--;
          if (depth === 0) {
            i++;
            return;
          }
        }
        i++;
      }
      return;
    }
    while (i < text.length && !/[,}\]\s]/.test(text[i])) i++;
  };
  let found: number | undefined;
  for (const seg of path) {
    ws();
    if (typeof seg === 'string') {
      if (text[i] !== '{') return found;
      i++;
      let hit = false;
      for (;;) {
        ws();
        if (text[i] !== '"') return found;
        const keyStart = i;
        skipString();
        const key = safeParse(text.slice(keyStart, i));
        ws();
        i++; // ':'
        ws();
        if (key === seg) {
          found = lineOf(text, keyStart);
          hit = true;
          break;
        }
        skipValue();
        ws();
        if (text[i] !== ',') return found;
        i++;
      }
      if (!hit) return found;
    } else {
      if (text[i] !== '[') return found;
      i++;
      for (let n = 0; ; n++) {
        ws();
        if (text[i] === ']') return found;
        if (n === seg) {
          found = lineOf(text, i);
          break;
        }
        skipValue();
        ws();
        if (text[i] !== ',') return found;
        i++;
      }
    }
  }
  return found;
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function lineOf(text: string, offset: number): number {
  let n = 0;
  for (let k = 0; k < offset; k++) if (text.charCodeAt(k) === 10) n++;
  return n;
}
