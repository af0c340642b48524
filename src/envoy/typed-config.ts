import type { Json } from '../match/string.js';

/** The config inside a filter, unwrapping Istio's TypedStruct (`type_url` + `value`); `type` is the message name. */
export function filterConfig(f: Json): { type: string; config: Json } {
  let tc = f?.typed_config ?? {};
  let type = String(tc['@type'] ?? '');
  if (/TypedStruct$/.test(type) && tc.type_url) {
    type = String(tc.type_url);
    tc = tc.value ?? {};
  }
  return { type: type.slice(type.lastIndexOf('/') + 1), config: tc };
}
