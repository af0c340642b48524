import type { ClusterObject, ClusterSource, ListOptions, ResourceType } from './cluster.js';
import { NotFoundError } from './errors.js';
import { type MeshKind, atVersion } from './kinds.js';

/** What the newest version the cluster serves answered, or the 404 that says it serves none. */
export type Served<T> = { served: true; type: ResourceType; value: T } | { served: false; notFound: NotFoundError };

/**
 * Reads `kind` at its versions newest first (MESH_KINDS): an older Istio or Gateway API serves only older
 * versions, and a 404 is how the API server says a version (or the whole CRD) is not served, so a 404 moves
 * on to the next version. `read` may make several requests (a list per namespace after a refused
 * cluster-wide one): a 404 from any of them counts, since RBAC answers 403 before the API server looks the
 * version up. The first answer is returned with the version that gave it; 404 on every version is
 * `served: false` (the kind is not installed: the caller says whether that matters). Any other error (403,
 * a timeout) is the caller's and is thrown as it came.
 */
export async function newestServed<T>(kind: MeshKind, read: (t: ResourceType) => Promise<T>): Promise<Served<T>> {
  let notFound: NotFoundError | undefined;
  for (const version of kind.versions) {
    const type = atVersion(kind, version);
    try {
      return { served: true, type, value: await read(type) };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      notFound = err;
    }
  }
  if (!notFound) throw new Error(`${kind.kind} has no versions to ask for`);
  return { served: false, notFound };
}

/** The objects of `kind` (a list) in the newest version the cluster serves; undefined when it serves none. */
export async function listServed(cluster: ClusterSource, kind: MeshKind, options?: ListOptions): Promise<ClusterObject[] | undefined> {
  const listed = await newestServed(kind, (t) => cluster.list(t, options));
  return listed.served ? listed.value : undefined;
}
