import { Chalk, type ChalkInstance } from 'chalk';

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
  return new Chalk({ level: colourEnabled(stream) ? 1 : 0 });
}
