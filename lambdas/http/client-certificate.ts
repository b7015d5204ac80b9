import { createHash, X509Certificate } from 'node:crypto';
import type { ClientCertificate } from '../core/clients/ports.js';

/** `subjectAltName` entries as node:crypto prints them: `DNS:a, IP Address:1.2.3.4, …`. */
function subjectAltNames(text: string | undefined) {
  const names = {
    dns: [] as string[],
    uri: [] as string[],
    ip: [] as string[],
    email: [] as string[],
  };
  for (const entry of (text ?? '').split(/,\s*/)) {
    const at = entry.indexOf(':');
    if (at < 1) continue;
    const [type, value] = [entry.slice(0, at), entry.slice(at + 1)];
    if (type === 'DNS') names.dns.push(value);
    else if (type === 'URI') names.uri.push(value);
    else if (type === 'IP Address') names.ip.push(value);
    else if (type === 'email') names.email.push(value);
  }
  return names;
}

/**
 * What the server needs of a verified client certificate (DER or PEM): its RFC 8705
 * thumbprint, subject DN (RFC 4514 order: node:crypto lists the RDNs most general first) and
 * subject alternative names. Undefined for anything that does not parse.
 */
export function clientCertificate(certificate: Buffer | string): ClientCertificate | undefined {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certificate);
  } catch {
    return undefined;
  }
  const sans = subjectAltNames(x509.subjectAltName);
  return {
    x5tS256: createHash('sha256').update(x509.raw).digest('base64url'),
    subjectDn: x509.subject.split('\n').reverse().join(','),
    sanDns: sans.dns,
    sanUri: sans.uri,
    sanIp: sans.ip,
    sanEmail: sans.email,
  };
}
