import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { renderMermaid } from '../../src/diagram/mermaid.js';
import { traceGraph } from '../../src/diagram/trace-graph.js';
import { hostileDump, traceOf } from '../diagram/util.js';
import { ROOT, runCli } from '../helpers.js';
import { type Browser, chromiumMissing, inkedPixels, openBrowser } from './browser.js';
import { bookinfoArgs } from './args.js';

const skip = chromiumMissing();
if (skip) process.stderr.write(`# ${skip}\n`);

let dir: string;
let browser: Browser | undefined;
before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-browser-'));
  if (!skip) browser = await openBrowser();
});
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Visit {
  requests: string[];
  consoleErrors: string[];
  dialogs: string[];
}

/** Opens a page with every request recorded and every non-file request refused. */
async function visit(file: string): Promise<{ page: import('playwright-core').Page; seen: Visit }> {
  const page = await browser!.context.newPage();
  const seen: Visit = { requests: [], consoleErrors: [], dialogs: [] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') seen.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => seen.consoleErrors.push(String(e)));
  page.on('dialog', (d) => {
    seen.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, seen };
}

test('the report renders in Chromium: sized SVG, the highlighted path, working filters, nothing fetched', { skip }, async () => {
  const out = path.join(dir, 'report.html');
  const r = await runCli(bookinfoArgs(out));
  assert.equal(r.code, 0, r.stderr);
  const { page, seen } = await visit(out);
  try {
    assert.equal(await page.title(), 'meshctl report');
    const svg = page.locator('.diagram svg.traffic').first();
    const box = await svg.boundingBox();
    assert.ok(box && box.width > 800 && box.height > 400, JSON.stringify(box));
    // the path: nodes and edges marked, the chosen cluster among them, text at a readable size
    const onPath = await page.locator('.diagram g.node.on-path').count();
    assert.ok(onPath >= 7, `${onPath} nodes on the path`);
    assert.ok((await page.locator('.diagram path.edge.on-path').count()) >= 6);
    const clusterText = await page.locator('.diagram g.node.kind-cluster.on-path text.label').first().textContent();
    assert.match(clusterText ?? '', /^outbound\|9080\|v2\|reviews/);
    const label = await page.locator('.diagram g.node.on-path text.label').first().boundingBox();
    assert.ok(label && label.height >= 10, `label height ${label?.height}`);
    // the diagram opened scrolled to the path
    const scrolled = await page.locator('.diagram').first().evaluate((el: any) => el.scrollTop + el.scrollLeft); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.ok(scrolled > 0, 'scrolled towards the path');
    // the filter hides rows that do not match
    await page.locator('summary', { hasText: 'Listeners' }).first().click();
    const filter = page.locator('input.filter:visible').first();
    const tableId = await filter.getAttribute('data-table');
    const rows = page.locator(`#${tableId} tbody tr`);
    const all = await rows.count();
    await filter.fill('zzz-no-such-row');
    assert.equal(await page.locator(`#${tableId} tbody tr.hidden`).count(), all);
    await filter.fill('');
    assert.equal(await page.locator(`#${tableId} tbody tr.hidden`).count(), 0);
    // one document, no other request; the CSP let our own style and script run and refused nothing
    assert.deepEqual(seen.requests, [pathToFileURL(out).href]);
    assert.deepEqual(seen.consoleErrors, []);
    const styled = await page.locator('header').evaluate((el: any) => (globalThis as any).getComputedStyle(el).borderBottomStyle); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(styled, 'solid', 'the inline stylesheet applied under the CSP');
  } finally {
    await page.close();
  }
});

test('the diagram is drawn: a screenshot of its region has ink', { skip }, async () => {
  const out = path.join(dir, 'report-shot.html');
  const r = await runCli(bookinfoArgs(out));
  assert.equal(r.code, 0, r.stderr);
  const { page } = await visit(out);
  try {
    const png = await page.locator('.diagram').first().screenshot();
    const { inked, total } = await inkedPixels(browser!, png);
    assert.ok(total > 100_000, `${total} pixels`);
    assert.ok(inked / total > 0.03, `only ${inked} of ${total} pixels drawn`);
    // the path's accent colour is on screen
    const accent = await page.locator('.diagram g.node.on-path rect').first().getAttribute('stroke');
    assert.equal(accent, '#d9480f');
  } finally {
    await page.close();
  }
});

test('hostile names in the browser: no script runs, no dialog opens, nothing is fetched', { skip }, async () => {
  const h = hostileDump();
  const dump = path.join(dir, 'evil.json');
  writeFileSync(dump, h.text);
  const manifests = path.join(dir, 'evil.yaml');
  writeFileSync(manifests, 'apiVersion: v1\nkind: Pod\nmetadata: {name: "<img src=http://127.0.0.1:9/x onerror=alert(1)>", namespace: default}\nspec: {containers: [{name: istio-proxy, image: "proxyv2:1.24.0<script>alert(2)</script>"}]}\n');
  const out = path.join(dir, 'evil.html');
  const r = await runCli(['report', '-f', dump, '--files', manifests, '--trace', 'http://reviews:9080/', '-H', 'end-user: jason', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const { page, seen } = await visit(out);
  try {
    assert.deepEqual(seen.dialogs, []);
    assert.equal(await page.evaluate('document.scripts.length'), 1);
    assert.equal(await page.locator('img').count(), 0);
    assert.deepEqual(seen.requests, [pathToFileURL(out).href]);
    const text = (await page.locator('body').textContent()) ?? '';
    assert.ok(text.includes('<img src=http://127.0.0.1:9/x onerror=alert(1)>'), 'shown as text');
    assert.ok(text.includes('</script><script>alert(1)</script>'));
  } finally {
    await page.close();
  }
});

test('trace -o mermaid is valid Mermaid: Mermaid itself parses and renders it, hostile names as text', { skip }, async () => {
  const page = await browser!.context.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  try {
    await page.setContent('<!DOCTYPE html><html><body><div id="out"></div></body></html>');
    await page.addScriptTag({ path: path.join(ROOT, 'node_modules', 'mermaid', 'dist', 'mermaid.min.js') });
    await page.evaluate("mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' })");
    const h = hostileDump();
    const cases = [
      renderMermaid(traceGraph(traceOf(readFileSync(path.join(ROOT, 'fixtures', 'bookinfo', 'productpage-config_dump.json'), 'utf8'), { target: 'http://reviews:9080/api/v1' }))),
      renderMermaid(traceGraph(traceOf(h.text, { target: 'http://reviews:9080/', headers: [['end-user', 'jason']], dstIp: '10.96.201.5' }))),
    ];
    for (const [i, src] of cases.entries()) {
      const parsed = await page.evaluate(`mermaid.parse(${JSON.stringify(src)}).then(() => 'ok', (e) => String(e && e.message || e))`);
      assert.equal(parsed, 'ok', src);
      const svg = (await page.evaluate(`mermaid.render('m${i}', ${JSON.stringify(src)}).then((r) => r.svg)`)) as string;
      assert.match(svg, /^<svg/);
      assert.ok(!/<script/i.test(svg));
      if (i === 1) {
        await page.evaluate(`document.getElementById('out').innerHTML = ${JSON.stringify(svg)}`);
        const text = (await page.locator('#out').textContent()) ?? '';
        assert.ok(text.includes('</script><script>alert(1)</script>'), text.slice(0, 400));
        assert.ok(text.includes('rev"iews\\N'), 'quotes and backslashes survive as text');
      }
    }
    assert.ok(requests.every((u) => u.startsWith('about:') || u.startsWith('data:')), requests.join(', '));
  } finally {
    await page.close();
  }
});
