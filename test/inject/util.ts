import yaml from 'js-yaml';
import { type Obj, type Overrides, type RawSettings, resolveSettings } from '../../src/inject/config.js';
import { injectText, uninjectText } from '../../src/inject/run.js';

export type { Obj };

/** Injects a YAML text with built-in defaults (plus any raw settings/flags); returns output, parsed docs and notes. */
export function inject(text: string, raw: Partial<RawSettings> = {}, flags: Overrides = {}) {
  const settings = resolveSettings({ origin: 'test', ...raw }, flags);
  const result = injectText({ name: 'test.yaml', text }, settings);
  return { ...result, docs: yaml.loadAll(result.text).filter((d) => d !== null && d !== undefined) as Obj[] };
}

export function uninject(text: string) {
  const result = uninjectText({ name: 'test.yaml', text });
  return { ...result, docs: yaml.loadAll(result.text).filter((d) => d !== null && d !== undefined) as Obj[] };
}

/** A Deployment with the given pod annotations, labels and spec additions. */
export function deployment(opts: { annotations?: Record<string, string>; labels?: Record<string, string>; spec?: Obj; container?: Obj } = {}): string {
  const doc = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop' },
    spec: {
      selector: { matchLabels: { app: 'api' } },
      template: {
        metadata: { labels: { app: 'api', ...opts.labels }, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
        spec: {
          containers: [{ name: 'api', image: 'api:1', ports: [{ containerPort: 8080, name: 'http' }], ...opts.container }],
          ...opts.spec,
        },
      },
    },
  };
  return yaml.dump(doc);
}

export function podTemplate(doc: Obj): { metadata: Obj; spec: Obj } {
  return (doc.spec as Obj).template as { metadata: Obj; spec: Obj };
}

export function container(doc: Obj, name: string): Obj {
  const spec = podTemplate(doc).spec;
  const all = [...((spec.initContainers as Obj[]) ?? []), ...((spec.containers as Obj[]) ?? [])];
  const c = all.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}

export function env(doc: Obj, name: string): string | undefined {
  const e = ((container(doc, 'istio-proxy').env as Obj[]) ?? []).find((x) => x.name === name);
  return e?.value as string | undefined;
}

export function initArgs(doc: Obj): string[] {
  return container(doc, 'istio-init').args as string[];
}

/** The value following a flag in istio-iptables' args, or undefined when the flag is absent. */
export function argOf(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}
