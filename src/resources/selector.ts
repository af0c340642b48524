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
