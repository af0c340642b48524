import { analyzeCommand, type AnalyzeCommandOptions } from '../../src/commands/analyze.js';
import { MeshctlError } from '../../src/errors.js';

/**
 * Runs `meshctl analyze` in process with istioctl's defaults and `opts` on top: the exit code, what it
 * wrote, and stdout's non-empty lines. A MeshctlError becomes its exit code and message, as the CLI does.
 */
export async function runAnalyze(files: string[], opts: Partial<AnalyzeCommandOptions> = {}) {
  let stdout = '';
  let stderr = '';
  let code: number;
  const full: AnalyzeCommandOptions = {
    files, recursive: false, output: 'log', failureThreshold: 'Error', outputThreshold: 'Info', suppress: [],
    listAnalyzers: false, analyzer: [], allNamespaces: false, ...opts,
  };
  try {
    code = await analyzeCommand(full, { out: (s) => (stdout += s), err: (s) => (stderr += s), colour: false });
  } catch (err) {
    if (!(err instanceof MeshctlError)) throw err;
    code = err.exitCode;
    stderr += err.message;
  }
  return { code, stdout, stderr, lines: stdout.trimEnd().split('\n').filter(Boolean) };
}
