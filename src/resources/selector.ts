export type Labels = Record<string, string>;

/** A metav1.LabelSelector, typed (describe's Gateway API listeners, waypoint allowedRoutes). */
export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: { key?: string; operator?: string; values?: string[] }[];
}

/** A metav1.LabelSelector as written in a manifest (fields unchecked). */
export interface LabelSelectorLike {
  matchLabels?: unknown;
  matchExpressions?: unknown;
}

/**
 * Kubernetes' LabelSelectorAsSelector(...).Matches(labels): every matchLabels pair and every
 * matchExpressions requirement (In, NotIn, Exists, DoesNotExist) holds; an empty selector matches
 * everything. A requirement with an unknown operator matches nothing, as the API server rejects it.
 */
export function labelSelectorMatches(selector: LabelSelectorLike, labels: Readonly<Record<string, string>>): boolean {
  const ml = selector.matchLabels;
  if (ml !== null && typeof ml === 'object') {
    for (const k in ml as Record<string, unknown>) if (labels[k] !== String((ml as Record<string, unknown>)[k])) return false;
  }
  const exprs = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  for (const e of exprs as { key?: unknown; operator?: unknown; values?: unknown }[]) {
    const key = String(e?.key ?? '');
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const values = Array.isArray(e?.values) ? e.values.map(String) : [];
    switch (e?.operator) {
      case 'In':
        if (!has || !values.includes(labels[key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A selector given as a plain map (a Service's `spec.selector`): every key has the same value; empty matches all. */
export function matchLabels(selector: Labels | undefined, labels: Labels | undefined): boolean {
  for (const [k, v] of Object.entries(selector ?? {})) {
    if ((labels ?? {})[k] !== v) return false;
  }
  return true;
}

/**
 * Does a label selector pick the namespace `ns`? undefined when the Namespace object is not known and the
 * selector needs more than the `kubernetes.io/metadata.name` label Kubernetes puts on every namespace.
 */
export function namespaceSelected(
  selector: LabelSelectorLike,
  ns: string,
  namespaces: readonly { metadata?: { name?: string; labels?: Labels } }[],
): boolean | undefined {
  const obj = namespaces.find((n) => n.metadata?.name === ns);
  const labels: Labels = { ...(obj?.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': ns };
  const ml = selector.matchLabels !== null && typeof selector.matchLabels === 'object' ? Object.keys(selector.matchLabels) : [];
  const exprs = Array.isArray(selector.matchExpressions) ? (selector.matchExpressions as { key?: unknown }[]).map((e) => String(e?.key ?? '')) : [];
  if (!obj && [...ml, ...exprs].some((k) => k !== 'kubernetes.io/metadata.name')) return undefined;
  return labelSelectorMatches(selector, labels);
}
