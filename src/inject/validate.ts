import yaml from 'js-yaml';
import { InjectError, isObj } from './config.js';
import { canonicalQuantity } from './quantity.js';

const port = (p: string): boolean => /^\d+$/.test(p) && Number(p) <= 65535;
const portList = (v: string): boolean => v.trim() === '' || v.split(',').every((p) => port(p.trim()));
const cidr = (c: string): boolean => {
  const m = /^(.+)\/(\d+)$/.exec(c);
  if (!m) return false;
  const [ip, bits] = [m[1], Number(m[2])];
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return ip.split('.').every((o) => Number(o) <= 255) && bits <= 32;
  return ip.includes(':') && /^[0-9a-fA-F:.]+$/.test(ip) && bits <= 128;
};
const cidrList = (v: string): boolean => v.trim() === '' || v.trim() === '*' || v.split(',').every((c) => cidr(c.trim()));
const quantity = (v: string): boolean => canonicalQuantity(v) !== v || /^\d+(\.\d+)?([numkMGTPE]|[KMGTPE]i)?$/.test(v);

type Check = [test: (v: string) => boolean, expected: string];
const CHECKS: Record<string, Check> = {
  'sidecar.istio.io/interceptionMode': [(v) => ['REDIRECT', 'TPROXY', 'NONE'].includes(v), 'REDIRECT, TPROXY or NONE'],
  'traffic.sidecar.istio.io/includeOutboundIPRanges': [cidrList, '"*" or a comma-separated list of CIDRs'],
  'traffic.sidecar.istio.io/excludeOutboundIPRanges': [cidrList, 'a comma-separated list of CIDRs'],
  'traffic.sidecar.istio.io/includeInboundPorts': [(v) => v.trim() === '*' || portList(v), '"*" or a comma-separated list of ports'],
  'traffic.sidecar.istio.io/excludeInboundPorts': [portList, 'a comma-separated list of ports'],
  'traffic.sidecar.istio.io/includeOutboundPorts': [portList, 'a comma-separated list of ports'],
  'traffic.sidecar.istio.io/excludeOutboundPorts': [portList, 'a comma-separated list of ports'],
  'status.sidecar.istio.io/port': [port, 'a port number (0 turns the readiness probe off)'],
  'readiness.status.sidecar.istio.io/initialDelaySeconds': [(v) => /^\d+$/.test(v), 'a whole number of seconds'],
  'readiness.status.sidecar.istio.io/periodSeconds': [(v) => /^\d+$/.test(v), 'a whole number of seconds'],
  'readiness.status.sidecar.istio.io/failureThreshold': [(v) => /^\d+$/.test(v), 'a whole number'],
  'sidecar.istio.io/proxyCPU': [quantity, 'a CPU quantity such as 100m'],
  'sidecar.istio.io/proxyCPULimit': [quantity, 'a CPU quantity such as 2'],
  'sidecar.istio.io/proxyMemory': [quantity, 'a memory quantity such as 128Mi'],
  'sidecar.istio.io/proxyMemoryLimit': [quantity, 'a memory quantity such as 1Gi'],
  'sidecar.istio.io/userVolume': [jsonObject, 'a JSON object of volume name to volume'],
  'sidecar.istio.io/userVolumeMount': [jsonObject, 'a JSON object of volume name to mount'],
  'proxy.istio.io/config': [yamlObject, 'a ProxyConfig as YAML or JSON'],
};

function jsonObject(v: string): boolean {
  try {
    const parsed = JSON.parse(v) as unknown;
    return isObj(parsed) && Object.values(parsed).every(isObj);
  } catch {
    return false;
  }
}

function yamlObject(v: string): boolean {
  if (v.trim() === '') return true;
  try {
    return isObj(yaml.load(v));
  } catch {
    return false;
  }
}

/** Rejects annotations the injector could only misread, as Istio's injector does. */
export function validateAnnotations(annotations: Record<string, string>): void {
  for (const [name, [test, expected]] of Object.entries(CHECKS)) {
    const v = annotations[name];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !test(v)) {
      throw new InjectError(`annotation ${name}: ${JSON.stringify(v)} is not valid (expected ${expected})`);
    }
  }
}
