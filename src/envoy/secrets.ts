import type { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import type { SecretEntry } from './config-dump.js';
import { isObject, str } from './json.js';
import type { DataSource, Secret } from './types.js';

/** What the first certificate of a secret says about itself (istioctl's secret columns). */
export interface CertInfo {
  /** `Cert Chain` for a workload certificate, `CA` for a CA (the ROOTCA trust bundle). */
  type: 'Cert Chain' | 'CA';
  /** Lowercase hex of the serial's bytes, as istioctl prints it: `0193a5…`, `…e000` keep their zeros. */
  serialNumber: string;
  /** RFC 3339 in UTC, e.g. `2023-05-16T01:32:52Z`. */
  notBefore: string;
  notAfter: string;
  subject: string;
  issuer: string;
  /** SPIFFE IDs and DNS names from the subjectAltName extension. */
  subjectAltNames: string[];
}

export type CertResult = { ok: true; cert: CertInfo } | { ok: false; reason: string } | { ok: false; reason: undefined };

/** The PEM text of a secret's certificate chain, or of its trusted CA when it is a validation context. */
export function certificatePem(secret: Secret | undefined): string | undefined {
  if (!isObject(secret)) return undefined;
  const chain = dataSourceText(secret.tls_certificate?.certificate_chain);
  if (chain) return chain;
  return dataSourceText(secret.validation_context?.trusted_ca) || undefined;
}

/** Inline bytes (base64 in JSON) or an inline string; files on the proxy's disk are not readable from here. */
export function dataSourceText(ds: DataSource | undefined): string | undefined {
  if (!isObject(ds)) return undefined;
  const bytes = str(ds.inline_bytes);
  if (bytes) return Buffer.from(bytes, 'base64').toString('latin1');
  return str(ds.inline_string) || undefined;
}

/**
 * Reads the first certificate of a secret. `{ok: false, reason: undefined}` means the secret carries no
 * certificate (a warming secret, a file reference); a reason means it has one that could not be read.
 */
export function secretCertificate(entry: SecretEntry): CertResult {
  const pem = certificatePem(entry.secret);
  if (!pem) return { ok: false, reason: undefined };
  return parseFirstCertificate(pem);
}

export function parseFirstCertificate(pem: string): CertResult {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem);
  if (!m) return { ok: false, reason: 'no PEM certificate block' };
  return parseCertificateBlock(m[0]);
}

/** Every certificate of a PEM bundle, in order (a trust bundle holds one CA per block). */
export function parseCertificates(pem: string): CertResult[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) return [{ ok: false, reason: 'no PEM certificate block' }];
  return blocks.map(parseCertificateBlock);
}

/** A trust domain's CA bundle from Envoy's SPIFFE certificate validator (SPIRE, federated trust domains). */
export interface TrustBundle {
  trustDomain: string;
  /** PEM text of the bundle's CAs; undefined when it is not inline (a file on the proxy). */
  pem?: string;
}

/** What a validation context's SPIFFE certificate validator trusts, and in which of its two forms. */
export interface SpiffeTrust {
  /**
   * `trust_domains`: a list of {name, trust_bundle (PEM)}; `trust_bundles`: the newer single DataSource
   * holding a SPIFFE trust bundle map (JSON: trust domain → JWKS whose `x509-svid` keys carry `x5c` CAs).
   */
  form: 'trust_domains' | 'trust_bundles';
  bundles: TrustBundle[];
  /** The bundle map lives in a file on the proxy: its trust domains cannot be read from the dump. */
  file?: string;
  /** The bundle map is inline but unreadable (not JSON, no trust_domains). */
  problem?: string;
}

const SPIFFE_VALIDATOR_TYPE = 'envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig';

/**
 * The SPIFFE certificate validator of a validation context (`custom_validator_config` →
 * `SPIFFECertValidatorConfig`), or undefined when it uses another validator. Both forms are read:
 * `trust_bundles` (a SPIFFE bundle map) takes precedence over `trust_domains` when both are set, as in Envoy.
 */
export function spiffeTrust(validationContext: unknown): SpiffeTrust | undefined {
  if (!isObject(validationContext)) return undefined;
  const validator = validationContext.custom_validator_config;
  if (!isObject(validator) || !isObject(validator.typed_config)) return undefined;
  const config = validator.typed_config;
  if (validator.name !== 'envoy.tls.cert_validator.spiffe' && !String(config['@type'] ?? '').endsWith(SPIFFE_VALIDATOR_TYPE)) return undefined;
  if (isObject(config.trust_bundles)) return bundleMap(config.trust_bundles as DataSource);
  const domains = Array.isArray(config.trust_domains) ? config.trust_domains.filter(isObject) : [];
  return { form: 'trust_domains', bundles: domains.map((d) => ({ trustDomain: str(d.name) ?? '', pem: dataSourceText(d.trust_bundle as DataSource | undefined) })) };
}

/** A SPIFFE trust bundle map (SPIFFE Trust Domain and Bundle, §4): each domain's x509-svid keys' `x5c` CAs as PEM. */
function bundleMap(ds: DataSource): SpiffeTrust {
  const file = str((ds as Record<string, unknown>).filename);
  if (file) return { form: 'trust_bundles', bundles: [], file };
  const text = dataSourceText(ds);
  let map: unknown;
  try {
    map = text === undefined ? undefined : JSON.parse(text);
  } catch {
    return { form: 'trust_bundles', bundles: [], problem: 'the trust bundle map is not JSON' };
  }
  const domains = isObject(map) ? map.trust_domains : undefined;
  if (!isObject(domains)) return { form: 'trust_bundles', bundles: [], problem: 'the trust bundle map has no trust_domains' };
  const bundles: TrustBundle[] = [];
  for (const [trustDomain, jwks] of Object.entries(domains)) {
    const keys = isObject(jwks) && Array.isArray(jwks.keys) ? jwks.keys.filter(isObject) : [];
    const pems = keys
      .filter((k) => k.use === 'x509-svid' && Array.isArray(k.x5c))
      .flatMap((k) => (k.x5c as unknown[]).filter((c): c is string => typeof c === 'string'))
      .map((der) => `-----BEGIN CERTIFICATE-----\n${der.replace(/\s+/g, '').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`);
    bundles.push({ trustDomain, pem: pems.length ? pems.join('') : undefined });
  }
  return { form: 'trust_bundles', bundles };
}

/** The trust domain of a certificate's SPIFFE ID (`spiffe://east.local/ns/…` → `east.local`), if it has one. */
export function spiffeTrustDomain(cert: CertInfo): string | undefined {
  for (const san of cert.subjectAltNames) {
    const m = /^spiffe:\/\/([^/]+)/i.exec(san);
    if (m) return m[1];
  }
  return undefined;
}

function parseCertificateBlock(block: string): CertResult {
  let x509: X509Certificate;
  try {
    // node:crypto is loaded only when a certificate is read: it is slow to load, and most commands never need it
    const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
    x509 = new crypto.X509Certificate(block);
  } catch (err) {
    return { ok: false, reason: `the certificate does not parse (${err instanceof Error ? err.message : String(err)})` };
  }
  return {
    ok: true,
    cert: {
      type: x509.ca ? 'CA' : 'Cert Chain',
      serialNumber: x509.serialNumber.toLowerCase(),
      notBefore: rfc3339(x509.validFrom),
      notAfter: rfc3339(x509.validTo),
      subject: x509.subject,
      issuer: x509.issuer,
      subjectAltNames: (x509.subjectAltName ?? '')
        .split(', ')
        .filter(Boolean)
        .map((s) => s.replace(/^(URI|DNS|IP Address):/, '')),
    },
  };
}

/** True when `now` lies strictly inside the validity window (istioctl's VALID CERT). */
export function certValidAt(cert: CertInfo, now: Date = new Date()): boolean {
  const t = now.getTime();
  return t > Date.parse(cert.notBefore) && t < Date.parse(cert.notAfter);
}

/** OpenSSL's `May 16 01:32:52 2023 GMT` to `2023-05-16T01:32:52Z`. */
function rfc3339(openssl: string): string {
  const ms = Date.parse(openssl);
  if (Number.isNaN(ms)) return openssl;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const REDACTED = '[redacted]';

/** Fields whose whole value is secret material, wherever they appear (secrets, bootstrap, inline TLS contexts). */
const SECRET_FIELDS = new Set(['private_key', 'password', 'pkcs12', 'session_ticket_keys', 'generic_secret', 'secret_value']);

/**
 * Returns `value` with secret material replaced by `[redacted]`. Copy-on-write: objects without secrets
 * are returned as they are (no copy of a 100 MB dump), only the paths leading to a secret are copied.
 */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0) as T;
}

function redact(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactPemKeys(value);
  if (typeof value !== 'object' || value === null || depth > 200) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const r = redact(v, depth + 1);
      if (r !== v) {
        copy ??= value.slice();
        copy[i] = r;
      }
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    const v = obj[key];
    const r = SECRET_FIELDS.has(key) ? redactedValue(v) : redact(v, depth + 1);
    if (r !== v) {
      copy ??= { ...obj };
      copy[key] = r;
    }
  }
  return copy ?? value;
}

/** Keeps the shape (and file paths, which are not secret) but blanks every value. */
function redactedValue(v: unknown): unknown {
  if (v === null || v === undefined || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(redactedValue);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = k === 'filename' ? x : redactedValue(x);
    return out;
  }
  return REDACTED;
}

const PEM_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;
const BASE64_PEM_KEY_HINTS = ['LS0tLS1CRUdJTi', 'tLS0tQkVHSU4g', 'LS0tLUJFR0lOI'];

/** A private key pasted anywhere else (a Lua script, an inline string), plain or base64-encoded. */
function redactPemKeys(s: string): string {
  if (s.length < 40) return s;
  if (s.includes('PRIVATE KEY-----')) return s.replace(PEM_KEY, REDACTED);
  if (BASE64_PEM_KEY_HINTS.some((h) => s.includes(h)) && /^[A-Za-z0-9+/=\s]+$/.test(s)) {
    const decoded = Buffer.from(s, 'base64').toString('latin1');
    if (decoded.includes('PRIVATE KEY-----')) return REDACTED;
  }
  return s;
}
