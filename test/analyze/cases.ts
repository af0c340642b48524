import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ANALYZERS, type AnalyzeOptions } from '../../src/analyze/engine.js';
import type { AnalyzeCommandOptions } from '../../src/commands/analyze.js';

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

/** One run of fixtures/analyze/special/cases.txt: its line, and the files and options it stands for. */
export interface SpecialCase {
  line: string;
  files: string[];
  options: Partial<AnalyzeCommandOptions>;
}

/**
 * The runs of a special-cases file (`files... --flag value ...`, paths relative to its directory). Only
 * the flags these cases need are understood; any other fails loudly rather than being dropped.
 */
export function specialCases(file: string): SpecialCase[] {
  const dir = path.dirname(file);
  const at = (p: string) => path.join(dir, p);
  const out: SpecialCase[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const words = line.split(/\s+/);
    const files: string[] = [];
    const options: Partial<AnalyzeCommandOptions> & { analyzer: string[]; remoteFiles: string[] } = { analyzer: [], remoteFiles: [] };
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      const value = () => {
        const v = words[++i];
        if (v === undefined) throw new Error(`${file}: ${w} needs a value in "${line}"`);
        return v;
      };
      if (w === '--analyzer') options.analyzer.push(value());
      else if (w === '--meshNetworksFile') options.meshNetworksFile = at(value());
      else if (w === '--meshConfigFile') options.meshConfigFile = at(value());
      else if (w === '--remote-files') {
        const [name, p] = value().split('=');
        options.remoteFiles.push(`${name}=${at(p)}`);
      } else if (w === '--partial') options.partial = true;
      else if (w.startsWith('-')) throw new Error(`${file}: flag ${w} is not understood by the test (add it to specialCases)`);
      else files.push(at(w));
    }
    out.push({ line, files, options });
  }
  return out;
}
