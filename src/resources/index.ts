/**
 * Kubernetes/Istio resources read from files, for `analyze` and `describe`.
 *
 *   const { resources, problems } = await loadResources(['manifests/'], { recursive: true });
 *
 * - Inputs: files, directories (top level, or all levels with `recursive`), globs (tinyglobby) and
 *   `-` for stdin. Multi-document YAML, JSON, `kind: List` (and `*List` from `kubectl get -o yaml`).
 * - Every Resource carries its `origin` (file, 1-based line of its document or list item);
 *   `fieldLine(resource, ['spec', 'hosts', 0])` finds the line of a field inside it, lazily.
 * - Bad input never throws: each unreadable file or broken document is one LoadProblem
 *   (file, line, message) and the other documents still load.
 * - `groupKind(r)` is the `group/Kind` key to index by (`Gateway` exists in two API groups).
 * - Host names as Istio reads them in config (`toFqdn`, `hostMatches`, ...) are in './hosts.js'.
 */
export { loadResources, parseResources, fieldLine, toResource, isObject, type LoadOptions } from './load.js';
export { locateField, type FieldPath } from './locate.js';
export { groupKind, splitApiVersion, type Resource, type Origin, type ObjectMeta, type LoadProblem, type LoadResult } from './types.js';
