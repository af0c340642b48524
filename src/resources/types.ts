/** Where a resource came from: the file (or `stdin`) and the 1-based line its document or list item starts on. */
export interface Origin {
  file: string;
  line: number;
  /** 0-based index of the YAML document within the file. */
  doc: number;
  /** Index within `items` when the resource came from a `kind: List` (or a JSON array). */
  item?: number;
  /** Path of that item inside the document: `['items', 3]`, or `[3]` for a top-level array. */
  itemPath?: (string | number)[];
  /** The text of the document the resource came from, kept for locating fields lazily (see fieldLine). */
  text?: string;
  /** Line the document text starts on, so positions inside `text` map back to file lines. */
  textLine?: number;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** One Kubernetes object, as written, with its identity pulled out for indexing. */
export interface Resource {
  apiVersion: string;
  kind: string;
  /** API group ('' for core), e.g. `networking.istio.io`. */
  group: string;
  version: string;
  name: string;
  /** As written; '' when the object has none (cluster-scoped, or left to the default namespace). */
  namespace: string;
  metadata: ObjectMeta;
  /** The whole object as parsed. */
  object: Record<string, unknown>;
  /** Absent for resources read from a cluster. */
  origin?: Origin;
}

/** A file or document that could not be read; the rest of the input is still loaded. */
export interface LoadProblem {
  file: string;
  line?: number;
  message: string;
}

export interface LoadResult {
  resources: Resource[];
  problems: LoadProblem[];
}

/** `group/Kind`, the key analyzers index by (`Gateway` exists in two groups). */
export function groupKind(r: Pick<Resource, 'group' | 'kind'>): string {
  return r.group ? `${r.group}/${r.kind}` : r.kind;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}
