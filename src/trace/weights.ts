/**
 * Envoy's weighted pick (route weighted_clusters, tcp_proxy weighted_clusters): `random % total weight`,
 * then the first entry whose cumulative range holds it. When every unit of weight is on one entry any
 * random value lands there, so that entry is the answer without one.
 */
export type WeightedPick = { index: number; selected: number } | { index: number; sole: true };

export function pickWeighted(weights: number[], random: number | undefined): WeightedPick | null {
  const total = weights.reduce((s, w) => s + w, 0);
  if (!(total > 0) || !Number.isSafeInteger(total)) return null;
  const carrying = weights.flatMap((w, i) => (w > 0 ? [i] : []));
  if (random === undefined) return carrying.length === 1 ? { index: carrying[0], sole: true } : null;
  const selected = Number(BigInt(random) % BigInt(total));
  let begin = 0;
  for (let i = 0; i < weights.length; i++) {
    if (selected >= begin && selected < begin + weights[i]) return { index: i, selected };
    begin += weights[i];
  }
  return null;
}
