import { ANALYZERS, type AnalyzeOptions } from '../../src/analyze/engine.js';

/**
 * Options a case fixture asks for on its first line, `# analyze: partial with=NAME`: `partial` runs it
 * as `meshctl analyze --partial`; `with=NAME` adds an analyzer that runs only when named (a meshctl
 * addition). Shared by the case tests and the equivalence test, so both run a case the same way.
 */
export function caseOptions(text: string): AnalyzeOptions {
  const first = text.split('\n', 1)[0];
  if (!first.startsWith('# analyze:')) return {};
  const words = first.slice('# analyze:'.length).trim().split(/\s+/);
  const extra = words.filter((w) => w.startsWith('with=')).map((w) => w.slice(5));
  return {
    partial: words.includes('partial'),
    analyzers: extra.length ? [...ANALYZERS.filter((a) => !a.optIn).map((a) => a.name), ...extra] : undefined,
  };
}
