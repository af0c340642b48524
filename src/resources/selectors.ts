/**
 * Kubernetes label selectors, as the API server evaluates them on objects read from files or a cluster;
 * shared by `describe` (Gateway API listeners) and `ambient` (waypoint attachment).
 */

export type Labels = Record<string, string>;

/** A metav1.LabelSelector: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist). */
export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: { key?: string; operator?: string; values?: string[] }[];
}

/** A selector given as a plain map (a Service's `spec.selector`): every key has the same value; empty matches all. */
export function matchLabels(selector: Labels | undefined, labels: Labels | undefined): boolean {
  for (const [k, v] of Object.entries(selector ?? {})) {
    if ((labels ?? {})[k] !== v) return false;
  }
  return true;
}

export function labelSelectorMatches(selector: LabelSelector, labels: Labels): boolean {
  if (!matchLabels(selector.matchLabels, labels)) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key ?? '');
    const value = labels[e.key ?? ''];
    const values = e.values ?? [];
    const ok =
      e.operator === 'In' ? has && values.includes(value) :
      e.operator === 'NotIn' ? !has || !values.includes(value) :
      e.operator === 'Exists' ? has :
      e.operator === 'DoesNotExist' ? !has :
      false;
    if (!ok) return false;
  }
  return true;
}

/**
 * Does a label selector pick the namespace `ns`? undefined when the Namespace object is not known and the
 * selector needs more than the `kubernetes.io/metadata.name` label Kubernetes puts on every namespace.
 */
export function namespaceSelected(
  selector: LabelSelector,
  ns: string,
  namespaces: readonly { metadata?: { name?: string; labels?: Labels } }[],
): boolean | undefined {
  const obj = namespaces.find((n) => n.metadata?.name === ns);
  const labels: Labels = { ...(obj?.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': ns };
  const keys = [...Object.keys(selector.matchLabels ?? {}), ...(selector.matchExpressions ?? []).map((e) => e.key ?? '')];
  if (!obj && keys.some((k) => k !== 'kubernetes.io/metadata.name')) return undefined;
  return labelSelectorMatches(selector, labels);
}
