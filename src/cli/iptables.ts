import type { Command } from 'commander';

/** Registers this command on the program; filled in by the issue that builds it. */
export function register(_program: Command): void {}
