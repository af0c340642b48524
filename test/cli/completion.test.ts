import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildProgram } from '../../src/cli/main.js';
import { complete, completionScript, FILE_DIRECTIVE, type CompletionContext } from '../../src/commands/completion.js';
import { type FakeCluster, PRODUCTPAGE, startCluster } from '../harness/cluster.js';
import { ROOT, runCli } from '../helpers.js';

const asked: unknown[] = [];
const fake: CompletionContext = {
  listPods: async (k) => {
    asked.push(k);
    return ['productpage-v1-abc', 'reviews-v1-def'];
  },
  listNamespaces: async () => ['default', 'istio-system'],
};

test('candidates come from the command tree: commands, subcommands, flags, choices, namespaces, pods, files', async () => {
  const p = await buildProgram();
  assert.ok((await complete(p, [''], fake)).includes('report'));
  assert.deepEqual(await complete(p, ['tr'], fake), ['trace']);
  assert.deepEqual(await complete(p, ['pc', 'cl'], fake), ['clusters']);
  assert.deepEqual(await complete(p, ['proxy-config', 'clusters', 'rev'], fake), ['reviews-v1-def']);
  assert.deepEqual(await complete(p, ['trace', '-o', ''], fake), ['dot', 'json', 'mermaid', 'short', 'yaml']);
  assert.deepEqual(await complete(p, ['trace', '--output=m'], fake), [], 'a word with = is a flag being typed, not a value');
  assert.ok((await complete(p, ['trace', '--'], fake)).includes('--all-candidates'));
  assert.ok((await complete(p, ['report', '--'], fake)).includes('--trace'));
  assert.deepEqual(await complete(p, ['pc', 'clusters', '-n', 'i'], fake), ['istio-system']);
  assert.deepEqual(await complete(p, ['trace', '-f', 'fix'], fake), [FILE_DIRECTIVE]);
  assert.deepEqual(await complete(p, ['report', '-o', 'r'], fake), [FILE_DIRECTIVE]);
  // the cluster flags typed so far are used for the pod lookup
  asked.length = 0;
  await complete(p, ['describe', 'pod', '--kubeconfig', '/k', '--context', 'kind', '-n', 'shop', ''], fake);
  assert.deepEqual(asked, [{ kubeconfig: '/k', context: 'kind', namespace: 'shop' }]);
  // report takes many pods; trace's second argument is a URL, not a pod
  assert.deepEqual(await complete(p, ['report', 'productpage-v1-abc', 'rev'], fake), ['reviews-v1-def']);
  assert.deepEqual(await complete(p, ['trace', 'productpage-v1-abc', 'rev'], fake), []);
  // hidden commands are not offered; a failing lookup offers nothing
  assert.ok(!(await complete(p, ['__'], fake)).length);
  const failing: CompletionContext = { listPods: async () => Promise.reject(new Error('no cluster')), listNamespaces: async () => [] };
  assert.deepEqual(await complete(p, ['pc', 'clusters', ''], failing), []);
});

let dir: string;
let c: FakeCluster | undefined;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-completion-'));
  // `meshctl` on PATH, as an installed CLI would be
  writeFileSync(path.join(dir, 'meshctl'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'bin', 'meshctl.js')}" "$@"\n`);
  chmodSync(path.join(dir, 'meshctl'), 0o755);
});
after(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

function hasShell(shell: string): boolean {
  return spawnSync(shell, ['-c', 'exit 0']).status === 0;
}

/** Runs a shell without blocking this process (it serves the API-server stand-in the shell's meshctl talks to). */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Sources the generated script in a bash subprocess and asks it to complete `words` (the last one being typed). */
async function bashComplete(script: string, words: string[]): Promise<{ out: string[]; stderr: string }> {
  const file = path.join(dir, 'meshctl.bash');
  writeFileSync(file, script);
  const quoted = ['meshctl', ...words].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const body = `source '${file}'
complete -p meshctl
COMP_WORDS=(${quoted}); COMP_CWORD=${words.length}; COMP_LINE="meshctl ${words.join(' ')}"; COMP_POINT=\${#COMP_LINE}
_meshctl
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await run('bash', ['--norc', '--noprofile', '-c', body], { cwd: ROOT, env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, NO_COLOR: '1' } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.equal(lines[0], 'complete -F _meshctl meshctl');
  return { out: lines.slice(1), stderr: r.stderr };
}

test('bash: the generated script, sourced in bash, completes commands, flags, values and files', { skip: hasShell('bash') ? false : 'bash not installed' }, async () => {
  const gen = await runCli(['completion', 'bash']);
  assert.equal(gen.code, 0, gen.stderr);
  const script = gen.stdout;
  assert.deepEqual((await bashComplete(script, ['pc', 'cl'])).out, ['clusters']);
  assert.deepEqual((await bashComplete(script, ['tra'])).out, ['trace']);
  assert.deepEqual((await bashComplete(script, ['trace', '-o', 'm'])).out, ['mermaid']);
  assert.ok((await bashComplete(script, ['report', '--ma'])).out.includes('--max-pods'));
  // a file flag: bash's own file completion, relative to the working directory
  assert.deepEqual((await bashComplete(script, ['trace', '-f', 'fixtures/bookinfo/productpage-c'])).out, ['fixtures/bookinfo/productpage-clusters.json', 'fixtures/bookinfo/productpage-config_dump.json']);
  // offline: pod names are simply not offered, and nothing is printed
  const offline = await bashComplete(script, ['pc', 'clusters', '--kubeconfig', path.join(dir, 'missing'), 'prod']);
  assert.deepEqual(offline.out, []);
  assert.equal(offline.stderr, '');
});

test('bash: pod names come live from the cluster (through the API-server stand-in)', { skip: hasShell('bash') ? false : 'bash not installed' }, async () => {
  c = await startCluster();
  const script = completionScript('bash');
  assert.deepEqual((await bashComplete(script, ['proxy-config', 'clusters', '--kubeconfig', c.kubeconfig, '-n', 'default', 'productp'])).out, [PRODUCTPAGE]);
  assert.ok((await bashComplete(script, ['describe', 'pod', '--kubeconfig', c.kubeconfig, '-n', ''])).out.includes('istio-system'));
  assert.ok(c.api.requests.some((r) => r.startsWith('GET /api/v1/namespaces/default/pods')));
});

for (const [shell, check] of [['zsh', ['-n']], ['fish', ['-n']]] as const) {
  test(`${shell}: the generated script is valid ${shell}`, { skip: hasShell(shell) ? false : `${shell} not installed; its script is not checked here` }, async () => {
    const gen = await runCli(['completion', shell]);
    assert.equal(gen.code, 0, gen.stderr);
    const file = path.join(dir, `meshctl.${shell}`);
    writeFileSync(file, gen.stdout);
    const r = spawnSync(shell, [...check, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
}

test('zsh: the completion function offers what __complete says', { skip: hasShell('zsh') ? false : 'zsh not installed' }, async () => {
  const file = path.join(dir, '_meshctl');
  writeFileSync(file, completionScript('zsh'));
  // compadd and _files stubbed: the function's own logic, with zsh's words/CURRENT
  const body = `compdef() { :; }; compadd() { shift $(( $# > 0 && $1 == -Q )); [[ $1 == -- ]] && shift; print -l -- "$@"; }; _files() { print FILES; }
source '${file}'
words=(meshctl pc cl); CURRENT=3; _meshctl
words=(meshctl trace -f x); CURRENT=4; _meshctl`;
  const r = spawnSync('zsh', ['-f', '-c', body], { cwd: ROOT, env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean), ['clusters', 'FILES']);
});

/** Loads the generated script into a fish that reads no user config, and asks fish itself to complete the command line `meshctl <line>`. */
async function fishComplete(script: string, line: string): Promise<string[]> {
  const file = path.join(dir, 'meshctl.fish');
  writeFileSync(file, script);
  const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, NO_COLOR: '1', XDG_CONFIG_HOME: path.join(dir, 'fish-config'), XDG_DATA_HOME: path.join(dir, 'fish-data') };
  const r = await run('fish', ['--no-config', '-c', `source ${quote(file)}; complete -C ${quote(`meshctl ${line}`)}`], { cwd: ROOT, env });
  assert.equal(r.status, 0, r.stderr);
  // fish prints `candidate<TAB>description`; meshctl's candidates have none
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
}

test('fish: the generated script, loaded in fish, completes commands, flag values and live pod names (through the API-server stand-in)', { skip: hasShell('fish') ? false : 'fish not installed; fish completion is not run here' }, async () => {
  c ??= await startCluster();
  const gen = await runCli(['completion', 'fish']);
  assert.equal(gen.code, 0, gen.stderr);
  const script = gen.stdout;
  assert.deepEqual(await fishComplete(script, 'pc cl'), ['clusters']);
  assert.deepEqual(await fishComplete(script, 'trace -o m'), ['mermaid']);
  const before = c.api.requests.length;
  assert.deepEqual(await fishComplete(script, `proxy-config clusters --kubeconfig ${c.kubeconfig} -n default productp`), [PRODUCTPAGE]);
  assert.ok(c.api.requests.slice(before).some((r) => r.startsWith('GET /api/v1/namespaces/default/pods')), 'the pod names were read from the cluster');
  assert.ok((await fishComplete(script, `describe pod --kubeconfig ${c.kubeconfig} -n `)).includes('istio-system'));
  // a file flag: fish's own path completion
  assert.deepEqual(await fishComplete(script, 'trace -f fixtures/bookinfo/productpage-c'), ['fixtures/bookinfo/productpage-clusters.json', 'fixtures/bookinfo/productpage-config_dump.json']);
  // offline: nothing offered, nothing printed
  assert.deepEqual(await fishComplete(script, `pc clusters --kubeconfig ${path.join(dir, 'missing')} prod`), []);
});
