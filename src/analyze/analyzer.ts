import { fieldLine, type FieldPath, type Resource } from '../resources/index.js';
import { formatTemplate, messageType, type Arg, type MessageType } from './messages.js';
import type { Snapshot } from './snapshot.js';

/** One finding, as istioctl's diag.Message: a message type, its text, and the resource it is about. */
export interface Diagnostic {
  type: MessageType;
  message: string;
  resource?: Resource;
  /** 1-based line in the resource's file (the offending field when known). */
  line?: number;
}

export interface Analyzer {
  /** istioctl's analyzer name, e.g. `virtualservice.DestinationHostAnalyzer`. */
  name: string;
  description: string;
  /** Message codes it can emit (for -L). */
  codes: readonly string[];
  /** Not run unless named with --analyzer (istioctl leaves it out of its default set too). */
  optIn?: boolean;
  /** Asynchronous groundwork (a DNS lookup, say) before the synchronous analyze. */
  prepare?(snapshot: Snapshot): Promise<void>;
  analyze(ctx: Context): void;
}

export class Context {
  readonly diagnostics: Diagnostic[] = [];
  constructor(readonly snapshot: Snapshot) {}

  /** Reports a message about `r`, pointing at `field` inside it when given. */
  report(r: Resource | undefined, code: string, args: readonly Arg[], field?: FieldPath): void {
    const type = messageType(code);
    const line = r ? fieldLine(r, field ?? []) : undefined;
    this.diagnostics.push({ type, message: formatTemplate(type.template, args), resource: r, line });
  }
}

/** `namespace/name` (or just `name` for cluster-scoped resources), as istioctl's resource.FullName prints. */
export function fullName(r: Resource): string {
  return r.namespace ? `${r.namespace}/${r.name}` : r.name;
}

/**
 * Orders resources by namespace/name in byte order, as Go's sort.Strings does. For Kubernetes names
 * (lower-case letters, digits, '-', '.') that is also localeCompare's order, without the ~10 ms its
 * first call costs to load ICU's collator.
 */
export function byFullName(a: Resource, b: Resource): number {
  const x = fullName(a);
  const y = fullName(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
