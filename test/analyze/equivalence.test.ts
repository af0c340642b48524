/**
 * The equivalence test: analyze over the project's whole fixture corpus (everything under fixtures/
 * that analyze can read), every finding (level, code, origin, message, file:line) compared with the
 * committed golden file test/analyze/golden/fixtures.txt. A refactor that changes any finding fails here.
 *
 * To accept a deliberate change, regenerate the golden file and review its diff before committing:
 *
 *   npx tsc -p tsconfig.json && MESHCTL_UPDATE_GOLDEN=1 node --test dist/test/analyze/equivalence.test.js
 *   git diff test/analyze/golden/fixtures.txt
 *
 * Nothing regenerates it otherwise. How the corpus is cut: fixtures/analyze/cases/ are standalone
 * cases, one file each (with the options of their `# analyze:` line); fixtures/analyze/good/ is one
 * mesh with its subdirectories; fixtures/analyze/special/ is run as its cases.txt says, one run per
 * line with the flags the case needs (through the command, exit code included); every other directory
 * is one set of the files directly inside it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fullName } from '../../src/analyze/analyzer.js';
import { analyzeResources, applyDefaultNamespace, type AnalyzeOptions } from '../../src/analyze/engine.js';
import { loadResources } from '../../src/resources/index.js';
import { ROOT } from '../helpers.js';
import { caseOptions, specialCases } from './cases.js';
import { runAnalyze } from './run.js';

const GOLDEN = path.join(ROOT, 'test', 'analyze', 'golden', 'fixtures.txt');
const FIXTURES = path.join(ROOT, 'fixtures');
const CASES = path.join(FIXTURES, 'analyze', 'cases');
const GOOD = path.join(FIXTURES, 'analyze', 'good');
const SPECIAL = path.join(FIXTURES, 'analyze', 'special');
const MANIFEST = /\.(ya?ml|json)$/;

interface FixtureSet {
  name: string;
  paths: string[];
  recursive: boolean;
  options: AnalyzeOptions;
}

/** The corpus, cut into the sets analyze runs on, in path order. */
function fixtureSets(): FixtureSet[] {
  const sets: FixtureSet[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const files = entries.filter((e) => e.isFile() && MANIFEST.test(e.name)).map((e) => path.join(dir, e.name));
    const rel = path.relative(ROOT, dir);
    if (dir === GOOD) {
      sets.push({ name: rel, paths: [dir], recursive: true, options: {} });
      return;
    }
    if (dir === SPECIAL) return; // run by specialFindings, with their flags
    if (dir === CASES) {
      for (const f of files) sets.push({ name: path.relative(ROOT, f), paths: [f], recursive: false, options: caseOptions(readFileSync(f, 'utf8')) });
    } else if (files.length > 0) {
      sets.push({ name: rel, paths: files, recursive: false, options: {} });
    }
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) walk(path.join(dir, e.name));
  };
  walk(FIXTURES);
  return sets;
}

/** Every finding of every set, one line each, under a header naming the set and how much of it analyze read. */
async function corpusFindings(): Promise<string> {
  const out: string[] = [];
  for (const set of fixtureSets()) {
    const { resources } = await loadResources(set.paths, { recursive: set.recursive });
    applyDefaultNamespace(resources, 'default');
    const findings = await analyzeResources(resources, set.options);
    out.push(`== ${set.name}: ${resources.length} resources, ${findings.length} findings`);
    for (const d of findings) {
      const r = d.resource;
      const where = r?.origin ? ` ${path.relative(ROOT, r.origin.file)}${d.line ? `:${d.line}` : ''}` : '';
      const origin = r ? ` (${r.kind} ${fullName(r)}${where})` : '';
      out.push(`${d.type.level} [${d.type.code}]${origin} ${d.message}`);
    }
  }
  out.push(...(await specialFindings()));
  return out.join('\n') + '\n';
}

/** The special cases, each run as cases.txt says through the command: its findings as printed (paths from the root) and its exit code. */
async function specialFindings(): Promise<string[]> {
  const out: string[] = [];
  for (const c of specialCases(path.join(SPECIAL, 'cases.txt'))) {
    const r = await runAnalyze(c.files, c.options);
    out.push(`== ${path.relative(ROOT, SPECIAL)}: ${c.line}: exit ${r.code}, ${r.lines.length} findings`);
    for (const l of r.lines) out.push(l.split(ROOT + path.sep).join(''));
  }
  return out;
}

test('equivalence: the findings over the whole fixture corpus are those of the golden file', async (t) => {
  const actual = await corpusFindings();
  if (process.env.MESHCTL_UPDATE_GOLDEN === '1') {
    writeFileSync(GOLDEN, actual);
    t.diagnostic(`wrote ${path.relative(ROOT, GOLDEN)}: review its diff before committing`);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(GOLDEN, 'utf8');
  } catch {
    assert.fail(`${path.relative(ROOT, GOLDEN)} is missing: generate it with MESHCTL_UPDATE_GOLDEN=1 (see this test's header)`);
  }
  // line by line, so a failure names the findings that changed rather than one huge string
  const a = actual.split('\n');
  const e = expected.split('\n');
  const missing = e.filter((l) => !a.includes(l));
  const added = a.filter((l) => !e.includes(l));
  assert.deepEqual({ missing, added }, { missing: [], added: [] }, 'findings changed; if deliberate, regenerate with MESHCTL_UPDATE_GOLDEN=1 and review the diff');
  assert.equal(actual, expected, 'the same findings in another order');
});

test('equivalence: the corpus covers the case fixtures and the good mesh, and the good mesh has no findings', async () => {
  const sets = fixtureSets();
  assert.ok(sets.filter((s) => s.name.startsWith(path.join('fixtures', 'analyze', 'cases'))).length >= 60);
  // every special case runs with flags, and every file of it is used by some run
  const special = specialCases(path.join(SPECIAL, 'cases.txt'));
  assert.ok(special.length >= 6 && special.filter((c) => Object.values(c.options).some((v) => (Array.isArray(v) ? v.length > 0 : v !== undefined))).length >= 6);
  const used = new Set(special.flatMap((c) => [...c.files, c.options.meshNetworksFile, ...(c.options.remoteFiles ?? []).map((r) => r.slice(r.indexOf('=') + 1))]));
  const manifests = readdirSync(SPECIAL, { recursive: true, encoding: 'utf8' }).filter((f) => MANIFEST.test(f)).map((f) => path.join(SPECIAL, f));
  assert.deepEqual(manifests.filter((f) => !used.has(f)), [], 'special fixtures no case uses');
  const good = sets.find((s) => s.name === path.join('fixtures', 'analyze', 'good'));
  assert.ok(good);
  const { resources } = await loadResources(good.paths, { recursive: true });
  applyDefaultNamespace(resources, 'default');
  assert.ok(resources.length > 20);
  assert.deepEqual((await analyzeResources(resources)).map((d) => `${d.type.code} ${d.message}`), []);
});
