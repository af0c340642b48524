import type { Resource } from '../../resources/index.js';
import type { Analyzer, Context } from '../analyzer.js';
import { K, arr, obj, str } from '../snapshot.js';

const GATEWAY_API_NEGATIVE = { Accepted: 'False', Programmed: 'False', ResolvedRefs: 'False' };

/** Per kind, the condition types istioctl reports and the status that is bad news; other conditions are someone else's. */
const NEGATIVE: [string, Record<string, string>, 'status' | 'parents'][] = [
  [K.Service, { 'istio.io/WaypointBound': 'False' }, 'status'],
  [K.ServiceEntry, { 'istio.io/WaypointBound': 'False' }, 'status'],
  [K.AuthorizationPolicy, { ZtunnelAccepted: 'False', WaypointAccepted: 'False' }, 'status'],
  [K.K8sGateway, GATEWAY_API_NEGATIVE, 'status'],
  [K.HTTPRoute, GATEWAY_API_NEGATIVE, 'parents'],
  [K.GRPCRoute, GATEWAY_API_NEGATIVE, 'parents'],
];

export const conditionAnalyzer: Analyzer = {
  name: 'conditions.ConditionAnalyzer',
  description: 'Checks for negative status conditions on resources',
  codes: ['IST0171'],
  analyze(ctx: Context) {
    for (const [gk, negative, where] of NEGATIVE) {
      for (const r of ctx.snapshot.of(gk)) {
        const status = r.object.status;
        if (status === undefined || status === null) continue;
        if (where === 'status') {
          check(ctx, r, gk, negative, arr(obj(status).conditions), ['status', 'conditions']);
        } else {
          // routes report per parent (Gateway or Service) they attach to
          arr(obj(status).parents).forEach((p, i) => check(ctx, r, gk, negative, arr(obj(p).conditions), ['status', 'parents', i, 'conditions']));
        }
      }
    }
  },
};

function check(ctx: Context, r: Resource, gk: string, negative: Record<string, string>, conditions: unknown[], at: (string | number)[]): void {
  conditions.forEach((c, i) => {
    const cond = obj(c);
    const type = str(cond.type);
    const args = [type, str(cond.reason), str(cond.message)];
    if (Object.prototype.hasOwnProperty.call(negative, type) && str(cond.status) === negative[type]) ctx.report(r, 'IST0171', args, [...at, i]);
    // accepted by the waypoint, but only in part: istioctl reports that too
    if (gk === K.AuthorizationPolicy && type === 'WaypointAccepted' && str(cond.reason) === 'PartiallyInvalid') ctx.report(r, 'IST0171', args, [...at, i]);
  });
}
