/** istioctl's `proxy-config secret` table (writer/envoy/configdump/secret.go). */
import type { ConfigDump } from '../config-dump.js';
import { listSecrets } from '../query.js';
import type { CertResult } from '../secrets.js';
import { certValidAt, parseCertificates, secretCertificate, spiffeTrust, spiffeTrustDomain } from '../secrets.js';
import type { Summary } from './table.js';

export interface SecretRow {
  name: string;
  type: string;
  status: string;
  valid: boolean;
  serial: string;
  notAfter: string;
  notBefore: string;
  /**
   * Set on every row when the dump carries SPIFFE trust bundles: the bundle's trust domain for a CA row,
   * the SPIFFE ID's for a certificate chain ('' when it has none).
   */
  trustDomain?: string;
  /** Why the certificate could not be read, when it could not. */
  problem?: string;
}

const SECRET_STATUS: Record<string, string> = { warming: 'WARMING', active: 'ACTIVE', static: 'STATIC' };

/**
 * One row per secret, as istioctl: the first certificate of its chain or trusted CA. A validation context
 * with SPIFFE trust bundles gives one row per CA of each trust domain instead.
 */
export function secretRows(dump: ConfigDump, now: Date = new Date()): SecretRow[] {
  const secrets = listSecrets(dump).map((s) => ({ s, trust: spiffeTrust(s.secret?.validation_context) }));
  const withTrustDomains = secrets.some((x) => x.trust !== undefined);
  const rows: SecretRow[] = [];
  for (const { s, trust } of secrets) {
    const base = { name: s.name, status: SECRET_STATUS[s.state] };
    if (trust) {
      const bundles = trust.bundles;
      for (const b of bundles) {
        const certs: CertResult[] = b.pem ? parseCertificates(b.pem) : [{ ok: false, reason: undefined }];
        for (const cert of certs) rows.push({ ...certRow(base, cert, now), trustDomain: b.trustDomain });
      }
      if (bundles.length === 0) rows.push({ ...certRow(base, { ok: false, reason: trust.problem }, now), trustDomain: '' });
      continue;
    }
    const cert = secretCertificate(s);
    const row = certRow(base, cert, now);
    if (withTrustDomains) row.trustDomain = cert.ok ? (spiffeTrustDomain(cert.cert) ?? '') : '';
    rows.push(row);
  }
  return rows;
}

function certRow(base: { name: string; status: string }, cert: CertResult, now: Date): SecretRow {
  if (!cert.ok) return { ...base, type: '', valid: false, serial: '', notAfter: '', notBefore: '', ...(cert.reason ? { problem: cert.reason } : {}) };
  const c = cert.cert;
  return { ...base, type: c.type, valid: certValidAt(c, now), serial: c.serialNumber, notAfter: c.notAfter, notBefore: c.notBefore };
}

/** istioctl's columns; TRUST DOMAIN only when the dump carries trust bundles. */
export function secretSummary(rows: SecretRow[], withNames = false): Summary {
  const trustDomains = rows.some((r) => r.trustDomain !== undefined);
  const headers = ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'];
  if (trustDomains) headers.push('TRUST DOMAIN');
  return {
    headers,
    rows: rows.map((r) => {
      const row = [withNames ? `secret/${r.name}` : r.name, r.type, r.status, String(r.valid), r.serial, r.notAfter, r.notBefore];
      if (trustDomains) row.push(r.trustDomain ?? '');
      return row;
    }),
    padding: 5,
  };
}
