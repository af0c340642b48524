import type { InputText } from './file.js';
import { readInput } from './file.js';

/**
 * Where an Envoy's admin answers come from: a saved file (offline) or the pod's admin port through a
 * port-forward (live). Commands ask for admin paths (`/config_dump?include_eds`, `/clusters?format=json`,
 * `/server_info`) and never care which it is.
 */
export interface EnvoyAdminSource {
  /** For messages: the file path or `pod.namespace`. */
  readonly name: string;
  /** True when every path is answered by the same saved file. */
  readonly offline: boolean;
  get(path: string): Promise<InputText>;
  /** Releases port-forwards and sockets; safe to call twice. */
  close(): Promise<void>;
}

/**
 * A saved admin answer: whatever path is asked, the file is the answer (commands detect its shape).
 * A file is read again when asked again rather than kept: a dump can be hundreds of megabytes, and
 * its text should be garbage once parsed. Only stdin, which cannot be read twice, is kept.
 */
export function fileAdminSource(file: string): EnvoyAdminSource {
  let stdin: Promise<InputText> | undefined;
  return {
    name: file === '-' ? 'stdin' : file,
    offline: true,
    get: () => (file === '-' ? (stdin ??= readInput(file)) : readInput(file)),
    close: async () => undefined,
  };
}
