/**
 * The analysis messages meshctl can emit: the same codes, names, levels and wording as istioctl's
 * (https://istio.io/latest/docs/reference/config/analysis/), so pipelines and suppressions carry over.
 * Templates use Go verbs (%s %q %v %d) because that is how the message texts are published.
 */
export type Level = 'Error' | 'Warning' | 'Info';

export const LEVELS: readonly Level[] = ['Info', 'Warning', 'Error'];

export interface MessageType {
  code: string;
  name: string;
  level: Level;
  template: string;
  description: string;
}

const table: [string, string, Level, string, string][] = [
  ['IST0001', 'InternalError', 'Error', 'Internal error: %v', 'There was an internal error in the toolchain.'],
  ['IST0002', 'Deprecated', 'Warning', 'Deprecated: %s', 'A feature that the configuration is depending on is now deprecated.'],
  ['IST0101', 'ReferencedResourceNotFound', 'Error', 'Referenced %s not found: %q', 'A resource being referenced does not exist.'],
  [
    'IST0102', 'NamespaceNotInjected', 'Info',
    "The namespace is not enabled for Istio injection. Run 'kubectl label namespace %s istio-injection=enabled' to enable it, or 'kubectl label namespace %s istio-injection=disabled' to explicitly mark it as not needing injection.",
    'A namespace is not enabled for Istio injection.',
  ],
  ['IST0103', 'PodMissingProxy', 'Warning', 'The pod %s is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload.', 'A pod is missing the Istio proxy.'],
  ['IST0106', 'SchemaValidationError', 'Error', 'Schema validation error: %v', 'The resource has a schema validation error.'],
  ['IST0107', 'MisplacedAnnotation', 'Warning', 'Misplaced annotation: %s can only be applied to %s', 'An Istio annotation is applied to the wrong kind of resource.'],
  ['IST0108', 'UnknownAnnotation', 'Warning', 'Unknown annotation: %s', 'An Istio annotation is not recognized for any kind of resource.'],
  [
    'IST0109', 'ConflictingMeshGatewayVirtualServiceHosts', 'Error',
    'The VirtualServices %s associated with mesh gateway define the same host %s which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.',
    'Conflicting hosts on VirtualServices associated with mesh gateway.',
  ],
  ['IST0110', 'ConflictingSidecarWorkloadSelectors', 'Error', 'The Sidecars %v in namespace %q select the same workload pod %q, which can lead to undefined behavior.', 'A Sidecar resource selects the same workloads as another Sidecar resource.'],
  ['IST0111', 'MultipleSidecarsWithoutWorkloadSelectors', 'Error', 'The Sidecars %v in namespace %q have no workload selector, which can lead to undefined behavior.', 'More than one sidecar resource in a namespace has no workload selector.'],
  [
    'IST0112', 'VirtualServiceDestinationPortSelectorRequired', 'Error',
    'This VirtualService routes to a service %q that exposes multiple ports %v. Specifying a port in the destination is required to disambiguate.',
    'A VirtualService routes to a service with more than one port exposed, but does not specify which to use.',
  ],
  ['IST0116', 'DeploymentAssociatedToMultipleServices', 'Warning', 'This deployment %s is associated with multiple services using port %d but different protocols: %v', "The resulting pods of a service mesh deployment can't be associated with multiple services using the same port but different protocols."],
  ['IST0118', 'PortNameIsNotUnderNamingConvention', 'Info', "Port name %s (port: %d, targetPort: %s) doesn't follow the naming convention of Istio port.", 'Port name is not under naming convention. Protocol detection is applied to the port.'],
  ['IST0123', 'NamespaceMultipleInjectionLabels', 'Warning', 'The namespace has more than one type of injection labels %v, which may lead to undefined behavior. Make sure only one injection label exists.', 'A namespace has more than one type of injection labels.'],
  ['IST0125', 'InvalidAnnotation', 'Warning', 'Invalid annotation %s: %s', 'An Istio annotation that is not valid.'],
  ['IST0126', 'UnknownMeshNetworksServiceRegistry', 'Error', 'Unknown service registry %s in network %s', 'A service registry in Mesh Networks is unknown'],
  ['IST0127', 'NoMatchingWorkloadsFound', 'Warning', 'No matching workloads for this resource with the following labels: %s', "There aren't workloads matching the resource labels."],
  ['IST0128', 'NoServerCertificateVerificationDestinationLevel', 'Warning', 'DestinationRule %s in namespace %s has TLS mode set to %s but no caCertificates are set to validate server identity for host: %s', 'No caCertificates are set in DestinationRule, this results in no verification of presented server certificate.'],
  ['IST0129', 'NoServerCertificateVerificationPortLevel', 'Warning', 'DestinationRule %s in namespace %s has TLS mode set to %s but no caCertificates are set to validate server identity for host: %s at port %s', 'No caCertificates are set in DestinationRule, this results in no verification of presented server certificate for traffic to a given port.'],
  ['IST0130', 'VirtualServiceUnreachableRule', 'Warning', 'VirtualService rule %v not used (%s).', 'A VirtualService rule will never be used because a previous rule uses the same match.'],
  ['IST0131', 'VirtualServiceIneffectiveMatch', 'Info', 'VirtualService rule %v match %v is not used (duplicate/overlapping match in rule %v).', 'A VirtualService rule match duplicates a match in a previous rule.'],
  ['IST0132', 'VirtualServiceHostNotFoundInGateway', 'Warning', 'one or more host %v defined in VirtualService %s not found in Gateway %s.', 'Host defined in VirtualService not found in Gateway.'],
  ['IST0133', 'SchemaWarning', 'Warning', 'Schema validation warning: %v', 'The resource has a schema validation warning.'],
  ['IST0134', 'ServiceEntryAddressesRequired', 'Warning', 'ServiceEntry addresses are required for this protocol.', 'Virtual IP addresses are required for ports serving TCP (or unset) protocol when PILOT_ENABLE_IP_AUTOALLOCATE is not set on a proxy.'],
  ['IST0135', 'DeprecatedAnnotation', 'Info', 'Annotation %q has been deprecated%s and may not work in future Istio versions.', 'A resource is using a deprecated Istio annotation.'],
  ['IST0136', 'AlphaAnnotation', 'Info', 'Annotation %q is part of an alpha-phase feature and may be incompletely supported.', 'An Istio annotation may not be suitable for production.'],
  ['IST0137', 'DeploymentConflictingPorts', 'Warning', 'This deployment %s is associated with multiple services %v using targetPort %q but different ports: %v.', 'Two services selecting the same workload with the same targetPort MUST refer to the same port.'],
  ['IST0138', 'GatewayDuplicateCertificate', 'Warning', 'Duplicate certificate in multiple gateways %v may cause 404s if clients re-use HTTP2 connections.', 'Duplicate certificate in multiple gateways may cause 404s if clients re-use HTTP2 connections.'],
  ['IST0139', 'InvalidWebhook', 'Error', '%v', 'Webhook is invalid or references a control plane service that does not exist.'],
  ['IST0140', 'IngressRouteRulesNotAffected', 'Warning', 'Subset in virtual service %s has no effect on ingress gateway %s requests', 'Route rules have no effect on ingress gateway requests.'],
  ['IST0144', 'InvalidApplicationUID', 'Warning', 'User ID (UID) 1337 is reserved for the sidecar proxy.', 'Application pods should not run as user ID (UID) 1337'],
  ['IST0145', 'ConflictingGateways', 'Error', 'Conflict with gateways %s (workload selector %s, port %s, hosts %v).', 'Gateway should not have the same selector, port and matched hosts of server.'],
  ['IST0146', 'ImageAutoWithoutInjectionWarning', 'Warning', '%s %s contains `image: auto` but does not match any Istio injection webhook selectors.', 'Deployments with `image: auto` should be targeted for injection.'],
  ['IST0147', 'ImageAutoWithoutInjectionError', 'Error', '%s %s contains `image: auto` but does not match any Istio injection webhook selectors.', 'Pods with `image: auto` should be targeted for injection.'],
  ['IST0148', 'NamespaceInjectionEnabledByDefault', 'Info', 'is enabled for Istio injection, as Istio is installed with enableNamespacesByDefault as true.', 'user namespace should be injectable if Istio is installed with enableNamespacesByDefault enabled and neither injection label is set.'],
  [
    'IST0149', 'JwtClaimBasedRoutingWithoutRequestAuthN', 'Error',
    'The virtual service uses the JWT claim based routing (key: %s) but found no request authentication for the gateway (%s) pod (%s). The request authentication must first be applied for the gateway pods to validate the JWT token and make the claims available for routing.',
    'Virtual service using JWT claim based routing without request authentication.',
  ],
  ['IST0150', 'ExternalNameServiceTypeInvalidPortName', 'Warning', 'Port name for ExternalName service is invalid. Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly', 'Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly for ExternalName services.'],
  [
    'IST0151', 'EnvoyFilterUsesRelativeOperation', 'Warning',
    'This EnvoyFilter does not have a priority and has a relative patch operation set which can cause the EnvoyFilter not to be applied. Using the INSERT_FIRST of ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.',
    'This EnvoyFilter does not have a priority and has a relative patch operation set.',
  ],
  ['IST0152', 'EnvoyFilterUsesReplaceOperationIncorrectly', 'Error', 'The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER.', 'The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER.'],
  ['IST0153', 'EnvoyFilterUsesAddOperationIncorrectly', 'Error', 'The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.', 'The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.'],
  ['IST0154', 'EnvoyFilterUsesRemoveOperationIncorrectly', 'Error', 'The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.', 'The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.'],
  [
    'IST0155', 'EnvoyFilterUsesRelativeOperationWithProxyVersion', 'Warning',
    'This EnvoyFilter does not have a priority and has a relative patch operation (NSTERT_BEFORE/AFTER, REPLACE, MERGE, DELETE) and proxyVersion set which can cause the EnvoyFilter not to be applied during an upgrade. Using the INSERT_FIRST or ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.',
    'This EnvoyFilter does not have a priority and has a relative patch operation and proxyVersion set.',
  ],
  ['IST0157', 'InvalidTelemetryProvider', 'Warning', 'The Telemetry %v in namespace %q with empty providers will be ignored.', 'The Telemetry with empty providers will be ignored.'],
  [
    'IST0158', 'PodsIstioProxyImageMismatchInNamespace', 'Warning',
    'The Istio proxy images of the pods running in the namespace do not match the image defined in the injection configuration (pod names: %v). This often happens after upgrading the Istio control-plane and can be fixed by redeploying the pods.',
    'The Istio proxy image of the pods running in the namespace do not match the image defined in the injection configuration.',
  ],
  [
    'IST0159', 'ConflictingTelemetryWorkloadSelectors', 'Error',
    'The Telemetries %v in namespace %q select the same workload pod %q, which can lead to undefined behavior.',
    'A Telemetry resource selects the same workloads as another Telemetry resource.',
  ],
  [
    'IST0160', 'MultipleTelemetriesWithoutWorkloadSelectors', 'Error',
    'The Telemetries %v in namespace %q have no workload selector, which can lead to undefined behavior.',
    'More than one telemetry resource in a namespace has no workload selector.',
  ],
  ['IST0161', 'InvalidGatewayCredential', 'Error', 'The credential referenced by the Gateway %s in namespace %s is invalid, which can cause the traffic not to work as expected.', 'The credential provided for the Gateway resource is invalid.'],
  [
    'IST0162', 'GatewayPortNotDefinedOnService', 'Warning',
    'The gateway is listening on a target port (port %d) that is not defined in the Service associated with its workload instances (Pod selector %s). If you need to access the gateway port through the gateway Service, it will not be available.',
    'Gateway port not exposed by service.',
  ],
  [
    'IST0163', 'InvalidExternalControlPlaneConfig', 'Warning',
    'The hostname (%s) that was provided for the webhook (%s) to reach the ingress gateway on the external control plane cluster %s. Traffic may not flow properly.',
    'Address for the ingress gateway on the external control plane is not valid',
  ],
  [
    'IST0164', 'ExternalControlPlaneAddressIsNotAHostname', 'Info',
    'The address (%s) that was provided for the webhook (%s) to reach the ingress gateway on the external control plane cluster is an IP address. This is not recommended for a production environment.',
    'Address for the ingress gateway on the external control plane is an IP address and not a hostname',
  ],
  ['IST0165', 'ReferencedInternalGateway', 'Warning', 'Gateway reference in VirtualService %s is to an implementation-generated internal Gateway: %s.', 'VirtualServices should not reference internal Gateways.'],
  ['IST0166', 'IneffectiveSelector', 'Warning', 'Ineffective selector on Kubernetes Gateway %s. Use the TargetRef field instead.', 'Selector has no effect when applied to Kubernetes Gateways.'],
  ['IST0167', 'IneffectivePolicy', 'Warning', 'The policy has no impact: %s.', 'The policy applied has no impact.'],
  [
    'IST0170', 'MultiClusterInconsistentService', 'Warning',
    'The service %v in namespace %q is inconsistent across clusters %q, which can lead to undefined behaviors. The inconsistent behaviors are: %v.',
    'The services live in different clusters under multi-cluster deployment model are inconsistent',
  ],
  ['IST0171', 'NegativeConditionStatus', 'Warning', 'A condition with a negative status is present: type=%s, reason=%s, message=%s.', 'A condition with a negative status is present'],
  ['IST0174', 'UnknownDestinationRuleHost', 'Warning', 'The host %s defined in the DestinationRule does not match any services in the mesh.', 'Host defined in destination rule does not match any services in the mesh.'],
  ['IST0173', 'DestinationRuleSubsetNotSelectPods', 'Error', 'The Subset %s defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).', 'Subsets defined in destination does not select any pods.'],
  [
    'IST0175', 'JwksUriFetchUnrestricted', 'Warning',
    'BLOCKED_CIDRS_IN_JWKS_URIS is not configured but %d RequestAuthentication resource(s) exist (%s). Consider configuring it to restrict JWKS URI fetches to trusted networks.',
    'RequestAuthentication resources exist but BLOCKED_CIDRS_IN_JWKS_URIS is not configured on istiod.',
  ],
  [
    'IST0176', 'GatewayAPICRDVersionBelowMinimum', 'Warning',
    'Gateway API CRD %q is at version %q but Istio requires at least %q; resources of this kind will not be processed. Upgrade the Gateway API CRDs to satisfy the minimum version.',
    'A Gateway API CRD is installed at a version below the minimum required by this Istio version. Resources of this kind will not be processed.',
  ],
  [
    'IST0177', 'ConflictingServiceEntryProtocol', 'Warning',
    'Multiple ServiceEntries (%s) define the same host %q and port %d with conflicting protocols (%s).',
    'Multiple ServiceEntries define the same host and port with conflicting protocols.',
  ],
];

export const MESSAGES: ReadonlyMap<string, MessageType> = new Map(
  table.map(([code, name, level, template, description]) => [code, { code, name, level, template, description }]),
);

export function messageType(code: string): MessageType {
  const t = MESSAGES.get(code);
  if (!t) throw new Error(`unknown message code ${code}`);
  return t;
}

export function levelRank(level: Level): number {
  return level === 'Error' ? 2 : level === 'Warning' ? 1 : 0;
}

/** Parses `Error`, `warning`, `INFO`; undefined when it is none of them. */
export function parseLevel(value: string): Level | undefined {
  return LEVELS.find((l) => l.toLowerCase() === value.toLowerCase());
}

export type Arg = string | number | readonly string[] | readonly number[];

/** Go's fmt for the verbs the templates use: %s %v (slices print as `[a b]`), %q (quoted), %d. */
export function formatTemplate(template: string, args: readonly Arg[]): string {
  let i = 0;
  return template.replace(/%([svqd%])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    if (a === undefined) return `%!${verb}(MISSING)`;
    if (verb === 'q') return Array.isArray(a) ? `[${a.map((x) => JSON.stringify(String(x))).join(' ')}]` : JSON.stringify(String(a));
    return Array.isArray(a) ? `[${a.join(' ')}]` : String(a);
  });
}

export function documentationUrl(code: string): string {
  return `https://istio.io/latest/docs/reference/config/analysis/${code.toLowerCase()}/`;
}
