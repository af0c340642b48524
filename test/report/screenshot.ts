/**
 * The screenshot in docs/report.md, taken from the bookinfo fixture with the browser tests' Chromium:
 * `npm run build && node dist/test/report/screenshot.js docs/report.png`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../helpers.js';
import { bookinfoArgs } from './args.js';
import { chromiumMissing, openBrowser } from './browser.js';

const target = process.argv[2];
// `npm test` runs every file under dist/test/: without an argument this tool does nothing
if (!target) process.exit(0);
const missing = chromiumMissing();
if (missing) {
  process.stderr.write(`${missing}\n`);
  process.exit(1);
}
const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-shot-'));
try {
  const html = path.join(dir, 'report.html');
  const r = await runCli(bookinfoArgs(html));
  if (r.code !== 0) throw new Error(r.stderr);
  const b = await openBrowser();
  try {
    const page = await b.context.newPage();
    await page.setViewportSize({ width: 1600, height: 1200 });
    await page.goto(pathToFileURL(html).href);
    // the pod's section: the traced request's result, then its traffic diagram
    await page.evaluate("document.querySelector('section.pod h3').scrollIntoView()");
    await page.screenshot({ path: path.resolve(target) });
  } finally {
    await b.close();
  }
  process.stdout.write(`wrote ${target}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
