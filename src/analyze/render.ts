import type { ChalkInstance } from 'chalk';
import { renderData } from '../output/format.js';
import type { Diagnostic } from './analyzer.js';
import { fullName } from './analyzer.js';
import { MESSAGES, documentationUrl, type Level } from './messages.js';

export type AnalyzeFormat = 'log' | 'json' | 'yaml' | 'sarif' | 'github';
export const ANALYZE_FORMATS: readonly AnalyzeFormat[] = ['log', 'json', 'yaml', 'sarif', 'github'];

/** `VirtualService default/reviews`, as istioctl's FriendlyName. */
export function origin(d: Diagnostic): string | undefined {
  return d.resource ? `${d.resource.kind} ${fullName(d.resource)}` : undefined;
}

/** `path/to/file.yaml:12` for findings on resources read from files. */
export function reference(d: Diagnostic): string | undefined {
  const o = d.resource?.origin;
  if (!o) return undefined;
  return `${o.file}:${d.line ?? o.line}`;
}

/** istioctl's log line: `Error [IST0101] (VirtualService default/reviews file.yaml:12) Referenced host not found: "x"`. */
export function logLine(d: Diagnostic, c?: ChalkInstance): string {
  const where = origin(d) ? ` (${[origin(d), reference(d)].filter(Boolean).join(' ')})` : '';
  const prefix = `${d.type.level} [${d.type.code}]`;
  const coloured = !c ? prefix : d.type.level === 'Error' ? c.red(prefix) : d.type.level === 'Warning' ? c.yellow(prefix) : c.cyan(prefix);
  return `${coloured}${where} ${d.message}`;
}

/** The fields of istioctl's `-o json` output. */
export function toData(d: Diagnostic): Record<string, string> {
  const out: Record<string, string> = { code: d.type.code, documentationUrl: documentationUrl(d.type.code), level: d.type.level, message: d.message };
  const o = origin(d);
  if (o) out.origin = o;
  const ref = reference(d);
  if (ref) out.reference = ref;
  return out;
}

export function render(ds: readonly Diagnostic[], format: AnalyzeFormat, c?: ChalkInstance): string {
  switch (format) {
    case 'log':
      return ds.map((d) => logLine(d, c) + '\n').join('');
    case 'json':
      return renderData(ds.map(toData), 'json');
    case 'yaml':
      return ds.length === 0 ? '[]\n' : renderData(ds.map(toData), 'yaml');
    case 'sarif':
      return JSON.stringify(sarif(ds), null, 2) + '\n';
    case 'github':
      return ds.map(githubLine).join('');
  }
}

const SARIF_LEVEL: Record<Level, string> = { Error: 'error', Warning: 'warning', Info: 'note' };

/** SARIF 2.1.0, as GitHub code scanning and most CI systems ingest it. */
function sarif(ds: readonly Diagnostic[]): unknown {
  const codes = [...new Set(ds.map((d) => d.type.code))].sort();
  const rules = codes.map((code) => {
    const t = MESSAGES.get(code)!;
    return {
      id: code,
      name: t.name,
      shortDescription: { text: t.description },
      helpUri: documentationUrl(code),
      defaultConfiguration: { level: SARIF_LEVEL[t.level] },
    };
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'meshctl analyze', informationUri: 'https://istio.io/latest/docs/reference/config/analysis/', rules } },
        results: ds.map((d) => {
          const o = d.resource?.origin;
          const result: Record<string, unknown> = {
            ruleId: d.type.code,
            ruleIndex: codes.indexOf(d.type.code),
            level: SARIF_LEVEL[d.type.level],
            message: { text: origin(d) ? `${d.message} (${origin(d)})` : d.message },
          };
          if (o) {
            result.locations = [
              { physicalLocation: { artifactLocation: { uri: o.file.split('\\').join('/') }, region: { startLine: d.line ?? o.line } } },
            ];
          } else if (d.resource) {
            result.locations = [{ logicalLocations: [{ name: fullName(d.resource), kind: d.resource.kind }] }];
          }
          return result;
        }),
      },
    ],
  };
}

const GITHUB_LEVEL: Record<Level, string> = { Error: 'error', Warning: 'warning', Info: 'notice' };

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** A GitHub Actions workflow command: the finding shows up as an annotation on the file and line. */
function githubLine(d: Diagnostic): string {
  const props: string[] = [];
  const o = d.resource?.origin;
  if (o) {
    props.push(`file=${escapeProperty(o.file)}`, `line=${d.line ?? o.line}`);
  }
  props.push(`title=${escapeProperty(`${d.type.code} ${d.type.name}`)}`);
  const text = origin(d) ? `${d.message} (${origin(d)})` : d.message;
  return `::${GITHUB_LEVEL[d.type.level]} ${props.join(',')}::${escapeData(text)}\n`;
}
