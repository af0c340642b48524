/** istioctl's `proxy-config secret` table (writer/envoy/configdump/secret.go). */
import type { ConfigDump } from '../config-dump.js';
import { listSecrets } from '../query.js';
import { certValidAt, secretCertificate } from '../secrets.js';
import type { Summary } from './table.js';

export interface SecretRow {
  name: string;
  type: string;
  status: string;
  valid: boolean;
  serial: string;
  notAfter: string;
  notBefore: string;
  /** Why the certificate could not be read, when it could not. */
  problem?: string;
}

const SECRET_STATUS: Record<string, string> = { warming: 'WARMING', active: 'ACTIVE', static: 'STATIC' };

export function secretRows(dump: ConfigDump, now: Date = new Date()): SecretRow[] {
  return listSecrets(dump).map((s) => {
    const cert = secretCertificate(s);
    const base = { name: s.name, status: SECRET_STATUS[s.state] };
    if (!cert.ok) return { ...base, type: '', valid: false, serial: '', notAfter: '', notBefore: '', problem: cert.reason };
    const c = cert.cert;
    return { ...base, type: c.type, valid: certValidAt(c, now), serial: c.serialNumber, notAfter: c.notAfter, notBefore: c.notBefore };
  });
}

export function secretSummary(rows: SecretRow[], withNames = false): Summary {
  return {
    headers: ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'],
    rows: rows.map((r) => [withNames ? `secret/${r.name}` : r.name, r.type, r.status, String(r.valid), r.serial, r.notAfter, r.notBefore]),
    padding: 5,
  };
}
