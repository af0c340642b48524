import type { Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What `__complete` prints instead of candidates when the shell should complete file names. */
export const FILE_DIRECTIVE = ':file';

/** Flags whose value is a file or directory: the shell's own file completion does it best. */
const FILE_FLAGS = new Set(['--file', '--files', '--kubeconfig', '--clusters', '--iptables', '--istiod-file', '--bundle', '--mesh-config', '--meshConfigFile', '--injectConfigFile', '--valuesFile', '--filename']);

export interface CompletionContext {
  /** Pods in a namespace (names only); errors mean "nothing to offer". */
  listPods(kube: { kubeconfig?: string; context?: string; namespace?: string }): Promise<string[]>;
  listNamespaces(kube: { kubeconfig?: string; context?: string }): Promise<string[]>;
}

/**
 * The candidates for the last word of `words` (the words after `meshctl`, the last one being typed),
 * from the CLI's own command tree: subcommands, flags, flag values with fixed choices, namespaces for
 * -n, and pod names (live, through src/kube) where a command takes a pod. Shell scripts only call this.
 */
export async function complete(program: Command, words: string[], ctx: CompletionContext): Promise<string[]> {
  const cur = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  let cmd = program;
  let positional = 0;
  const kube: { kubeconfig?: string; context?: string; namespace?: string } = {};
  let pending: Option | undefined;
  for (let i = 0; i < before.length; i++) {
    const w = before[i];
    if (pending) {
      remember(kube, pending, w);
      pending = undefined;
      continue;
    }
    if (w === '--') break;
    if (w.startsWith('-') && w !== '-') {
      const [flag, value] = w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
      const opt = findOption(cmd, flag);
      if (opt && (opt.required || opt.optional)) {
        if (value !== undefined) remember(kube, opt, value);
        else if (opt.required) pending = opt;
      }
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === w || c.aliases().includes(w));
    if (sub && positional === 0) cmd = sub;
    else positional++;
  }

  const filter = (xs: Iterable<string>) => [...new Set(xs)].filter((x) => x.startsWith(cur)).sort();
  if (pending) {
    if (pending.argChoices?.length) return filter(pending.argChoices);
    if (pending.long === '--namespace' || pending.long === '--istioNamespace') return filter(await quietly(() => ctx.listNamespaces(kube)));
    if (pending.long === '--context') return [];
    if (FILE_FLAGS.has(pending.long ?? '') || pending.long === '--output' && cmd.name() === 'report') return [FILE_DIRECTIVE];
    return [];
  }
  if (cur.startsWith('-')) {
    const flags: string[] = [];
    for (let c: Command | null = cmd; c; c = c.parent) {
      for (const o of c.options) {
        if (o.hidden) continue;
        if (o.long) flags.push(o.long);
        if (o.short) flags.push(o.short);
      }
      if (c === cmd && cmd !== program) continue;
    }
    flags.push('--help');
    return filter(flags);
  }
  const out: string[] = [];
  if (positional === 0) for (const c of cmd.commands) if (!(c as unknown as { _hidden?: boolean })._hidden) out.push(c.name());
  const args = cmd.registeredArguments;
  const arg = args[Math.min(positional, args.length - 1)];
  if (arg && (positional < args.length || arg.variadic) && /pod/.test(arg.name())) out.push(...(await quietly(() => ctx.listPods(kube))));
  return filter(out);
}

function findOption(cmd: Command, flag: string): Option | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === flag || x.short === flag);
    if (o) return o;
  }
  return undefined;
}

function remember(kube: { kubeconfig?: string; context?: string; namespace?: string }, opt: Option, value: string): void {
  if (opt.long === '--kubeconfig') kube.kubeconfig = value;
  else if (opt.long === '--context') kube.context = value;
  else if (opt.long === '--namespace') kube.namespace = value;
}

/** Completion never prints an error: no cluster, no candidates. */
async function quietly(fn: () => Promise<string[]>): Promise<string[]> {
  try {
    return await fn();
  } catch {
    return [];
  }
}

/** Live lookups through src/kube with a short timeout: a TAB must not hang on an unreachable cluster. */
export const liveContext: CompletionContext = {
  async listPods(k) {
    const { connect } = await import('../kube/client.js');
    const { listPods } = await import('../kube/pods.js');
    const kube = await connect({ ...k, timeout: '3s' });
    try {
      return (await listPods(kube, kube.namespace)).map((p) => p.metadata?.name ?? '').filter(Boolean);
    } finally {
      kube.close();
    }
  },
  async listNamespaces(k) {
    const { connect } = await import('../kube/client.js');
    const kube = await connect({ ...k, timeout: '3s' });
    try {
      const list = await kube.call({ verb: 'list', resource: 'namespaces' }, (o) => kube.core.listNamespace({}, o));
      return list.items.map((n) => n.metadata?.name ?? '').filter(Boolean);
    } finally {
      kube.close();
    }
  },
};

/** The script for a shell: a thin function that asks `meshctl __complete` and hands back its lines. */
export function completionScript(shell: Shell): string {
  switch (shell) {
    case 'bash':
      return `# meshctl completion for bash. Load it now:   source <(meshctl completion bash)
# or for every shell:   meshctl completion bash > /etc/bash_completion.d/meshctl
_meshctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local -a out
  mapfile -t out < <(meshctl __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  if [[ "\${out[0]-}" == "${FILE_DIRECTIVE}" ]]; then
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return 0
  fi
  COMPREPLY=("\${out[@]}")
}
complete -F _meshctl meshctl
`;
    case 'zsh':
      return `#compdef meshctl
# meshctl completion for zsh. Load it now:   source <(meshctl completion zsh)
# or save it as _meshctl in a directory of your $fpath.
_meshctl() {
  local -a out
  out=("\${(@f)$(meshctl __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ "\${out[1]}" == "${FILE_DIRECTIVE}" ]]; then
    _files
    return
  fi
  (( \${#out} )) && [[ -n "\${out[1]}" ]] && compadd -Q -- "\${out[@]}"
}
if [[ "$funcstack[1]" == "_meshctl" ]]; then
  _meshctl "$@"
else
  compdef _meshctl meshctl
fi
`;
    case 'fish':
      return `# meshctl completion for fish. Load it now:   meshctl completion fish | source
# or save it as ~/.config/fish/completions/meshctl.fish
function __meshctl_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out (meshctl __complete -- $words[2..-1] 2>/dev/null)
    if test "$out[1]" = "${FILE_DIRECTIVE}"
        __fish_complete_path (commandline -ct)
        return
    end
    printf '%s\\n' $out
end
complete -c meshctl -f -a '(__meshctl_complete)'
`;
  }
}
