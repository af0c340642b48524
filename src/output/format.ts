import { createRequire } from 'node:module';
import type jsYaml from 'js-yaml';
import { UsageError } from '../errors.js';

export type DataFormat = 'json' | 'yaml';

/** JSON as istioctl prints it (two-space indent) or YAML, always ending in a newline. */
export function renderData(data: unknown, format: DataFormat): string {
  if (format === 'json') return JSON.stringify(data, null, 2) + '\n';
  // js-yaml is loaded on first use, to keep it out of the start-up of every command
  const yaml = createRequire(import.meta.url)('js-yaml') as typeof jsYaml;
  return yaml.dump(data, { noRefs: true, lineWidth: -1, sortKeys: false });
}

/** Validates an `-o` value against what a command supports. */
export function parseOutputFormat<T extends string>(value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`unknown output format "${value}": use one of ${allowed.join(', ')}`);
}
