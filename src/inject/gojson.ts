import { type Obj, goJson, isObj } from './config.js';
import { canonicalQuantity } from './quantity.js';

/**
 * A corev1.Container as Go's encoding/json writes it (what the injector puts in proxy.istio.io/overrides):
 * fields in the struct's order, `resources` always present, empty strings left out, quantities canonical.
 * Fields Go's struct does not know come last, in the order written.
 */
export function goContainerJson(c: Obj): string {
  return goJson(ordered(c, CONTAINER, { resources: {} }));
}

type Shape = [key: string, nested?: Shape | 'list' | 'quantities'][];

const HTTP_GET: Shape = [['path'], ['port'], ['host'], ['scheme'], ['httpHeaders']];
const HANDLER: Shape = [['exec'], ['httpGet', HTTP_GET], ['tcpSocket', [['port'], ['host']]], ['grpc', [['port'], ['service']]], ['sleep']];
const PROBE: Shape = [...HANDLER, ['initialDelaySeconds'], ['timeoutSeconds'], ['periodSeconds'], ['successThreshold'], ['failureThreshold'], ['terminationGracePeriodSeconds']];
const CONTAINER: Shape = [
  ['name'],
  ['image'],
  ['command'],
  ['args'],
  ['workingDir'],
  ['ports', [['name'], ['hostPort'], ['containerPort'], ['protocol'], ['hostIP']]],
  ['envFrom'],
  ['env', [['name'], ['value'], ['valueFrom']]],
  ['resources', [['limits', 'quantities'], ['requests', 'quantities'], ['claims']]],
  ['resizePolicy'],
  ['restartPolicy'],
  ['volumeMounts', [['name'], ['readOnly'], ['recursiveReadOnly'], ['mountPath'], ['subPath'], ['mountPropagation'], ['subPathExpr']]],
  ['volumeDevices'],
  ['livenessProbe', PROBE],
  ['readinessProbe', PROBE],
  ['startupProbe', PROBE],
  ['lifecycle', [['postStart', HANDLER], ['preStop', HANDLER], ['stopSignal']]],
  ['terminationMessagePath'],
  ['terminationMessagePolicy'],
  ['imagePullPolicy'],
  [
    'securityContext',
    [
      ['capabilities', [['add'], ['drop']]],
      ['privileged'],
      ['seLinuxOptions'],
      ['windowsOptions'],
      ['runAsUser'],
      ['runAsGroup'],
      ['runAsNonRoot'],
      ['readOnlyRootFilesystem'],
      ['allowPrivilegeEscalation'],
      ['procMount'],
      ['seccompProfile'],
      ['appArmorProfile'],
    ],
  ],
  ['stdin'],
  ['stdinOnce'],
  ['tty'],
];

function ordered(v: Obj, shape: Shape, always: Obj = {}): Obj {
  const out: Obj = {};
  for (const [key, nested] of shape) {
    let x = v[key] ?? always[key];
    if (x === undefined || x === null || x === '') continue;
    if (nested === 'quantities' && isObj(x)) {
      // a ResourceList is a Go map: its keys come out sorted
      x = Object.fromEntries(
        Object.keys(x)
          .sort()
          .map((k) => [k, typeof (x as Obj)[k] === 'string' || typeof (x as Obj)[k] === 'number' ? canonicalQuantity((x as Obj)[k] as string | number) : (x as Obj)[k]]),
      );
    } else if (Array.isArray(nested) && Array.isArray(x)) {
      x = x.map((item) => (isObj(item) ? ordered(item, nested) : item));
    } else if (Array.isArray(nested) && isObj(x)) {
      x = ordered(x, nested);
    }
    out[key] = x;
  }
  for (const [k, x] of Object.entries(v)) if (!(k in out) && !shape.some(([s]) => s === k)) out[k] = x;
  return out;
}
