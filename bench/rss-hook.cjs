'use strict';
/**
 * Preloaded (`node --require`) into every process the bench runner measures: at exit, writes the
 * process's own peak RSS and CPU time to the file named by MESHCTL_BENCH_STATS. Plain CommonJS on
 * purpose, so it does not start the ESM loader in `node -e 0` and distort the start-up baseline.
 */
const fs = require('node:fs');

const target = process.env.MESHCTL_BENCH_STATS;
// only this process reports: children it spawns must not overwrite the figures
delete process.env.MESHCTL_BENCH_STATS;

if (target) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    fs.writeFileSync(target, JSON.stringify({ maxRssKb: u.maxRSS, userUs: u.userCPUTime, systemUs: u.systemCPUTime }));
  });
}
