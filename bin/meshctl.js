#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// meshctl runs for well under a second to a few seconds. With V8's default interrupt budget, much of a
// short run's CPU goes to optimising functions (on background threads) that are called only a few more
// times before exit. Four times the budget optimises only what stays hot: `analyze -R` over 10,000
// resources uses ~15% less CPU, and nothing measured got slower (docs/performance.md). It is set before
// any of meshctl is loaded, so every function is compiled under it. Only on the V8 it was measured
// with (Node 20's 11.x): other versions tier differently, and V8 prints an error for a flag it lacks.
if (process.versions.v8.startsWith('11.')) setFlagsFromString('--interrupt-budget=270336');

const { main } = await import('../dist/src/cli/main.js');
await main();
