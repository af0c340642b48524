import { readFileSync } from 'node:fs';
import type { KubeObject } from '../harness/apiserver.js';
import { fixture } from '../helpers.js';

/** A fixture certificate or key, base64 as a Secret's data holds it. */
export function pem(name: string): string {
  return Buffer.from(readFileSync(fixture('analyze', 'certs', name))).toString('base64');
}

/**
 * An ingress gateway for the live and bundle tests: the injected `default` namespace, istio-system
 * with the gateway pod and its Service, and an expired certificate `secret` for it.
 */
export function ingressObjects(secret: string): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'istio-injection': 'enabled' } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } },
    {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ingress-1', namespace: 'istio-system', labels: { istio: 'ingressgateway' } },
      spec: { containers: [{ name: 'istio-proxy', image: 'proxyv2' }] },
    },
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'ingressgateway', namespace: 'istio-system' },
      spec: { selector: { istio: 'ingressgateway' }, ports: [{ name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: secret, namespace: 'istio-system' }, type: 'kubernetes.io/tls',
      data: { 'tls.crt': pem('expired-cert.pem'), 'tls.key': pem('expired-key.pem') },
    },
  ];
}
