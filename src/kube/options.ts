/** The cluster-access flags every live command shares (istioctl's names). */
export interface KubeOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  istioNamespace: string;
  revision?: string;
  timeout: string;
}
