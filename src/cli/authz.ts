import { type Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { addIdentityOptions, identityFlags } from './identity-options.js';
import { addBundleOption, addKubeOptions, type KubeOptions } from './kube-options.js';
import { collect, ip, port } from './arguments.js';

/** Registers `meshctl authz check` (istioctl's `x authz check`). */
export function register(program: Command): void {
  const authz = program.command('authz').description('authorization: the AuthorizationPolicies a proxy enforces, and whether they allow a request');
  const cmd = authz
    .command('check')
    .description("the AuthorizationPolicies a proxy enforces (istioctl's x authz check table); with --files, those the manifests give a pod and the verdict for a request")
    .argument('[pod]', 'the pod (name, name.namespace, deployment/name); omit with -f')
    .option('-f, --file <config_dump>', 'a saved /config_dump (JSON or YAML); - for stdin')
    .option('--files <paths...>', 'manifests (files, directories): evaluate their AuthorizationPolicies for the pod, before anything is deployed')
    .option('--use-kube', 'evaluate the pod, AuthorizationPolicies and mesh config the cluster (or --bundle) holds, as --files does for manifests; with --files, the manifests replace the cluster\'s objects of the same name')
    .option('--ztunnel', "ztunnel's L4 policies: of the ztunnel serving the pod (all of them for a ztunnel pod, or without a pod); -f with a ztunnel dump implies it")
    .option('--method <method>', 'with --files: HTTP method', 'GET')
    .option('--path <path>', 'with --files: request path', '/')
    .option('--port <port>', "with --files: destination port (default: the pod's first container port); with ztunnel: the workload's port", port)
    .option('--host <host>', "with --files: the Host/:authority (default pod:port); on a waypoint it picks the served service's chain (name, name.ns, FQDN, cluster IP, ServiceEntry host)")
    .option('-H, --header <header>', "with --files: request header 'name: value' (repeatable)", collect)
    .option('--src <ip>', 'with --files or ztunnel: the client IP', ip)
    .option('--sni <host>', 'with --files: the SNI the client sent')
    .option('--plaintext', 'with --files: the client speaks plaintext (no mTLS, so no principal); with ztunnel: plain TCP, not HBONE (no identity)')
    .option('--tcp', 'with --files: a TCP connection (network RBAC) instead of an HTTP request')
    .option('--proxy-admin-port <port>', 'Envoy admin port in the pod', port, 15000)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['short', 'json', 'yaml']).default('short'));
  addIdentityOptions(cmd);
  addBundleOption(addKubeOptions(cmd));
  cmd.addHelpText(
    'after',
    `
Examples:
  meshctl authz check httpbin-74fb669cc6-kz9dq.foo
  meshctl authz check -f httpbin-config_dump.json -o yaml       # each policy with its rules in words
  meshctl authz check httpbin --files manifests/ --path /admin --source-principal spiffe://cluster.local/ns/foo/sa/sleep
  meshctl authz check --ztunnel ratings-v1-6c9b8d7f5-w7p4n.bookinfo          # the L4 policies ztunnel enforces for the pod
  meshctl authz check -f ztunnel-config_dump.json ratings-v1-6c9b8d7f5-w7p4n.bookinfo --port 9080 --source-namespace bookinfo --source-sa bookinfo-reviews
  meshctl authz check httpbin.foo --use-kube --path /admin --source-namespace foo --source-sa sleep   # the policies as applied
  meshctl authz check httpbin.foo --bundle mesh.tar.gz                  # the table, from the dump bug-report captured
  meshctl authz check httpbin.foo --bundle mesh.tar.gz --files fix.yaml --path /admin   # a changed policy over the captured cluster`,
  );
  cmd.action(async (pod: string | undefined, opts: Record<string, unknown>) => {
    const { authzCheckCommand } = await import('../commands/authz.js');
    await authzCheckCommand({
      ...(opts as unknown as KubeOptions),
      pod,
      file: opts.file as string | undefined,
      files: opts.files as string[] | undefined,
      ztunnel: opts.ztunnel === true,
      useKube: opts.useKube === true,
      output: opts.output as 'short' | 'json' | 'yaml',
      proxyAdminPort: opts.proxyAdminPort as number,
      identity: identityFlags(opts),
      method: opts.method as string,
      path: opts.path as string,
      port: opts.port as number | undefined,
      host: opts.host as string | undefined,
      header: opts.header as string[] | undefined,
      src: opts.src as string | undefined,
      sni: opts.sni as string | undefined,
      plaintext: opts.plaintext === true,
      tcp: opts.tcp === true,
    });
  });
}
