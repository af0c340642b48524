/**
 * What Istio's gateway controllers make of a Gateway API Gateway: the controller its class belongs to, the
 * name of the Deployment and Service they deploy for it, whether routes can bind to its listeners, and which
 * Gateway a pod belongs to. One rule for describe (addresses, route binding) and trace (waypoint pods).
 */

/** The parts of a Gateway the naming rules read (structural: describe's and ambient's objects both fit). */
export interface NamedGateway {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { gatewayClassName?: string; addresses?: { type?: string; value?: string }[] };
}

export interface NamedGatewayClass {
  metadata?: { name?: string };
  spec?: { controllerName?: string };
}

/**
 * Istio's gateway controllers (pilot/pkg/config/kube/gatewaycommon/classinfo.go): whether the deployment
 * controller makes a Deployment and Service for their Gateways, whether it appends `-<gatewayClassName>`
 * to their name (`disableNameSuffix` is set for waypoints and ambient east-west gateways), and whether
 * istiod binds routes to their listeners: gateway_collection.go builds no route parent from the listeners
 * of waypoints and ambient east-west gateways ("don't actually convert the routes to VirtualServices"), and
 * none for remote gateways (`disableRouteGeneration`).
 */
export interface IstioController {
  deploys: boolean;
  suffix: boolean;
  routes: boolean;
  /** What a Gateway of this controller is, in a sentence. */
  what: string;
}

export const ISTIO_CONTROLLERS: Readonly<Record<string, IstioController>> = {
  'istio.io/gateway-controller': { deploys: true, suffix: true, routes: true, what: 'a gateway' },
  'istio.io/mesh-controller': { deploys: true, suffix: false, routes: false, what: 'a waypoint' },
  'istio.io/eastwest-controller': { deploys: true, suffix: false, routes: false, what: 'an ambient east-west gateway' },
  // remote gateways (another cluster's): nothing is deployed or configured here
  'istio.io/unmanaged-gateway': { deploys: false, suffix: true, routes: false, what: 'a remote gateway (another cluster\'s)' },
};

/** The classes istiod knows without a GatewayClass object (its builtin classes), by controller. */
export const BUILTIN_CLASSES: Readonly<Record<string, string>> = {
  istio: 'istio.io/gateway-controller',
  'istio-waypoint': 'istio.io/mesh-controller',
  'istio-east-west': 'istio.io/eastwest-controller',
  'istio-remote': 'istio.io/unmanaged-gateway',
};

export const NAME_OVERRIDE = 'gateway.istio.io/name-override';

export type GatewayController =
  | { cls: string; controller: string; istio: IstioController; assumed?: true }
  | { cls: string; controller: string; istio?: undefined }
  | { cls?: undefined; none: string };

/**
 * The controller of a Gateway's class: its GatewayClass's `controllerName`, else istiod's builtin class of
 * that name. A class found in neither is taken as the default controller's (`assumed`).
 */
export function gatewayController(gw: NamedGateway, classes: readonly NamedGatewayClass[] = []): GatewayController {
  const cls = gw.spec?.gatewayClassName;
  if (!cls) return { none: 'it names no gatewayClassName' };
  const object = classes.find((c) => c.metadata?.name === cls);
  const controller = object ? object.spec?.controllerName ?? '' : BUILTIN_CLASSES[cls];
  if (controller === undefined) return { cls, controller: 'istio.io/gateway-controller', istio: ISTIO_CONTROLLERS['istio.io/gateway-controller'], assumed: true };
  const istio = ISTIO_CONTROLLERS[controller];
  return istio ? { cls, controller, istio } : { cls, controller };
}

/**
 * The name of the Deployment and Service Istio's deployment controller makes for a Gateway, or why it makes
 * none (deploymentcontroller.go, extractGatewayServices in conversion.go): the `gateway.istio.io/name-override`
 * annotation when set, else `<name>-<gatewayClassName>`, or the bare `<name>` for classes without the suffix
 * (`istio-waypoint`, `istio-east-west`). A class meshctl cannot place is taken as the default controller's,
 * `<name>-<gatewayClassName>`: the Service must then exist under that name for anything to follow from it.
 */
export function deployedService(gw: NamedGateway, classes: readonly NamedGatewayClass[] = []): { name: string } | { none: string } {
  const c = gatewayController(gw, classes);
  if (c.cls === undefined) return { none: c.none };
  if (!managed(gw)) return { none: 'its spec.addresses name an existing address, so Istio deploys no Service for it' };
  if (!c.istio) return { none: `its class ${c.cls} belongs to controller ${c.controller || '(none)'}, not to Istio` };
  if (!c.istio.deploys) return { none: `Istio deploys nothing for class ${c.cls} (${c.controller}: a gateway of another cluster)` };
  const override = gw.metadata?.annotations?.[NAME_OVERRIDE];
  const name = gw.metadata?.name ?? '';
  return { name: override || (c.istio.suffix ? `${name}-${c.cls}` : name) };
}

/** The Deployment and Service Istio deploys for a Gateway (see deployedService), undefined when it deploys none. */
export function deployedServiceName(gw: NamedGateway, classes: readonly NamedGatewayClass[] = []): string | undefined {
  const d = deployedService(gw, classes);
  return 'name' in d ? d.name : undefined;
}

/**
 * Istio deploys for a Gateway with no spec.addresses, or a single one of type IPAddress (or untyped), which
 * becomes the Service's loadBalancerIP (IsManaged); other addresses name what serves the Gateway already.
 */
function managed(gw: NamedGateway): boolean {
  const addresses = gw.spec?.addresses ?? [];
  if (addresses.length === 0) return true;
  if (addresses.length > 1) return false;
  const type = addresses[0].type;
  return !type || type === 'IPAddress';
}

/**
 * The Gateway (Gateway API or waypoint) a pod serves, from the label Istio's deployment controller puts on
 * the pods: `gateway.networking.k8s.io/gateway-name` (the waypoint and kube-gateway templates,
 * manifests/charts/istio-control/istio-discovery/files/waypoint.yaml), else `istio.io/gateway-name` (the
 * label of older releases, still the selector of Deployments made by them).
 */
export function gatewayNameOf(labels: Record<string, string>): string | undefined {
  return labels['gateway.networking.k8s.io/gateway-name'] ?? labels['istio.io/gateway-name'];
}
