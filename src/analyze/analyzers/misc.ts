import { byFullName, fullName, type Analyzer, type Context } from '../analyzer.js';
import { isObject } from '../../resources/index.js';
import { K, arr, num, obj, str } from '../snapshot.js';

export const caCertificateAnalyzer: Analyzer = {
  name: 'destinationrule.CaCertificateAnalyzer',
  description: 'Checks if caCertificates is set when TLS mode is SIMPLE/MUTUAL',
  codes: ['IST0128', 'IST0129'],
  analyze(ctx: Context) {
    const unverified = (tls: Record<string, unknown>) => {
      const mode = str(tls.mode);
      if (mode !== 'SIMPLE' && mode !== 'MUTUAL') return undefined;
      if (str(tls.caCertificates) || str(tls.credentialName) || tls.insecureSkipVerify === true) return undefined;
      return mode;
    };
    for (const dr of ctx.snapshot.of(K.DestinationRule)) {
      const spec = obj(dr.object.spec);
      const policy = obj(spec.trafficPolicy);
      const mode = unverified(obj(policy.tls));
      if (mode) ctx.report(dr, 'IST0128', [fullName(dr), dr.namespace, mode, str(spec.host)], ['spec', 'trafficPolicy', 'tls', 'mode']);
      arr(policy.portLevelSettings).forEach((pls, i) => {
        const m = unverified(obj(obj(pls).tls));
        if (m) ctx.report(dr, 'IST0129', [fullName(dr), dr.namespace, m, str(spec.host), String(num(obj(obj(pls).port).number))], ['spec', 'trafficPolicy', 'portLevelSettings', i, 'tls', 'mode']);
      });
    }
  },
};

const RELATIVE_ROUTE_TARGETS = new Set(['ROUTE_CONFIGURATION', 'HTTP_ROUTE']);

export const envoyPatchAnalyzer: Analyzer = {
  name: 'envoyfilter.EnvoyPatchAnalyzer',
  description: 'Checks an envoyFilters',
  codes: ['IST0151', 'IST0152', 'IST0153', 'IST0154', 'IST0155'],
  analyze(ctx: Context) {
    // names of filters patched with a proxyVersion match, carried across EnvoyFilters as Istio does
    const versioned: string[] = [];
    const filters = [...ctx.snapshot.of(K.EnvoyFilter)].sort(byFullName);
    for (const ef of filters) {
      const spec = obj(ef.object.spec);
      const priority = num(spec.priority);
      const patches = arr(spec.configPatches);
      for (let i = 0; i < patches.length; i++) {
        const c = obj(patches[i]);
        // istioctl stops at the first entry without a patch
        if (c.patch === undefined || c.patch === null) break;
        const patch = obj(c.patch);
        const op = str(patch.operation);
        const applyTo = str(c.applyTo);
        const match = obj(c.match);
        // the filter a patch is about, to pair patches across EnvoyFilters: the value's name, else
        // (when there is a value) the matched network filter's; "" without a value, as istioctl has it
        const value = patch.value;
        let name = '';
        if (isObject(value) && Object.keys(value).length > 0) {
          name = value.name !== undefined ? JSON.stringify(value.name) : str(obj(obj(obj(match.listener).filterChain).filter).name);
        }
        const at = ['spec', 'configPatches', i, 'patch', 'operation'];
        const relative = () => {
          if (priority !== 0) return;
          ctx.report(ef, versioned.includes(name) ? 'IST0155' : 'IST0151', [], at);
        };
        if (op === 'ADD') {
          if (RELATIVE_ROUTE_TARGETS.has(applyTo)) ctx.report(ef, 'IST0153', [], at);
        } else if (op === 'REMOVE') {
          if (RELATIVE_ROUTE_TARGETS.has(applyTo)) ctx.report(ef, 'IST0154', [], at);
          else relative();
        } else if (op === 'REPLACE') {
          if (applyTo !== 'NETWORK_FILTER' && applyTo !== 'HTTP_FILTER') ctx.report(ef, 'IST0152', [], at);
          else relative();
        } else if (op === 'INSERT_BEFORE' || op === 'INSERT_AFTER') {
          relative();
        }
        if (str(obj(match.proxy).proxyVersion)) versioned.push(name);
      }
    }
  },
};

export const deprecationAnalyzer: Analyzer = {
  name: 'deprecation.DeprecationAnalyzer',
  description: 'Checks for deprecated Istio types and fields',
  codes: ['IST0002'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    for (const vs of snap.of(K.VirtualService)) {
      arr(obj(vs.object.spec).http).forEach((rule, i) => {
        const r = obj(rule);
        const delay = obj(obj(r.fault).delay);
        if (num(delay.percent) > 0) ctx.report(vs, 'IST0002', ['HTTPRoute.fault.delay.percent is deprecated; use HTTPRoute.fault.delay.percentage'], ['spec', 'http', i, 'fault', 'delay', 'percent']);
      });
    }
    for (const sc of snap.of(K.Sidecar)) {
      if (obj(obj(sc.object.spec).outboundTrafficPolicy).egressProxy !== undefined) {
        ctx.report(sc, 'IST0002', ['OutboundTrafficPolicy.EgressProxy ignored'], ['spec', 'outboundTrafficPolicy', 'egressProxy']);
      }
    }
    const removed = new Set(['ClusterRbacConfig', 'RbacConfig', 'ServiceRole', 'ServiceRoleBinding']);
    for (const crd of snap.of('apiextensions.k8s.io/CustomResourceDefinition')) {
      const spec = obj(crd.object.spec);
      const kind = str(obj(spec.names).kind);
      if (str(spec.group) === 'rbac.istio.io' && removed.has(kind)) ctx.report(crd, 'IST0002', [`Custom resource type rbac.istio.io ${kind} is removed`], ['spec', 'names', 'kind']);
    }
    // istioctl's list of deprecated kinds is empty today: the mixer kinds (QuotaSpec, rbac.istio.io ...)
    // are gone from it, and objects of unknown kinds are carried along unread, as istioctl ignores them
  },
};
