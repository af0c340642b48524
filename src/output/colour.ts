import { createRequire } from 'node:module';
import type { ChalkInstance } from 'chalk';

type ChalkModule = typeof import('chalk');

// Every command's start-up loads this module (for --no-color), and chalk costs ~10 ms of it. Where
// Node can require() an ES module (20.19 and later), chalk is loaded on first use instead.
const canRequireEsm = (process.features as { require_module?: boolean }).require_module === true;
let chalkModule: ChalkModule | undefined = canRequireEsm ? undefined : await import('chalk');
const loadChalk = (): ChalkModule => (chalkModule ??= createRequire(import.meta.url)('chalk') as ChalkModule);

let forcedOff = false;

/** Called by the CLI for --no-color. */
export function disableColour(): void {
  forcedOff = true;
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org) or --no-color was given. */
export function colourEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (forcedOff) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return Boolean(stream.isTTY);
}

/** A chalk instance that is a no-op when colour is off for that stream. */
export function colours(stream: NodeJS.WriteStream = process.stdout): ChalkInstance {
  return new (loadChalk().Chalk)({ level: colourEnabled(stream) ? 1 : 0 });
}
