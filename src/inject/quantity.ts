/**
 * Kubernetes resource quantities in their canonical form, as the API machinery (and so istioctl)
 * writes them: "2000m" -> "2", "1024Mi" -> "1Gi", "0.5" -> "500m". Strings that are not quantities
 * are returned unchanged; validation is the API server's job.
 */
const BINARY = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const DECIMAL: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const SUFFIX_EXP: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

export function canonicalQuantity(input: string | number): string {
  const text = String(input).trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE]?)|[eE]([+-]?\d+))$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return String(input);
  const negative = m[1] === '-';
  const digits = BigInt((m[2] || '0') + (m[3] ?? ''));
  let exp10 = -(m[3] ?? '').length;
  let exp1024 = 0;
  const binary = m[4] !== undefined;
  if (binary) exp1024 = BINARY.indexOf(m[4]);
  else if (m[6] !== undefined) exp10 += Number(m[6]);
  else exp10 += SUFFIX_EXP[m[5] ?? ''];
  const sign = negative && digits !== 0n ? '-' : '';

  if (binary) {
    // value = digits * 10^exp10 * 1024^exp1024; binary form only when it is a whole number >= 1024
    let num = digits * 1024n ** BigInt(exp1024);
    let den = 1n;
    if (exp10 < 0) den = 10n ** BigInt(-exp10);
    else num *= 10n ** BigInt(exp10);
    if (num % den === 0n && num / den >= 1024n) {
      let whole = num / den;
      let k = 0;
      while (k < BINARY.length - 1 && whole % 1024n === 0n) {
        whole /= 1024n;
        k++;
      }
      return `${sign}${whole}${BINARY[k]}`;
    }
    return decimalForm(num, den, sign);
  }
  let num = digits;
  let den = 1n;
  if (exp10 < 0) den = 10n ** BigInt(-exp10);
  else num *= 10n ** BigInt(exp10);
  return decimalForm(num, den, sign);
}

/** Largest decimal SI suffix that keeps the mantissa whole; precision stops at nano (rounded up). */
function decimalForm(num: bigint, den: bigint, sign: string): string {
  let nanos = (num * 1_000_000_000n) / den;
  if ((num * 1_000_000_000n) % den !== 0n) nanos += 1n;
  if (nanos === 0n) return '0';
  let exp = -9;
  while (exp < 18 && nanos % 1000n === 0n) {
    nanos /= 1000n;
    exp += 3;
  }
  return `${sign}${nanos}${DECIMAL[exp]}`;
}
