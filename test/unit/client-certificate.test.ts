import { createHash, X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateClientMetadata } from '../../lambdas/core/clients/metadata-validation.js';
import { OAuthError } from '../../lambdas/core/errors.js';
import { clientCertificate } from '../../lambdas/http/client-certificate.js';
import { serveApiGatewayEvents } from '../../lambdas/http/lambda.js';
import type { HttpRequest } from '../../lambdas/http/message.js';
import { apiEvent } from '../support/apigw.js';

let pem: string;

beforeAll(async () => {
  pem = (
    await generate(
      [
        { name: 'countryName', value: 'NL' },
        { name: 'organizationName', value: 'Fleet Inc' },
        { name: 'commonName', value: 'agent-7' },
      ],
      {
        keyType: 'ec',
        curve: 'P-256',
        extensions: [
          {
            name: 'subjectAltName',
            altNames: [
              { type: 2, value: 'agent7.fleet.example' },
              { type: 6, value: 'spiffe://fleet.example/agent-7' },
              { type: 7, ip: '192.0.2.7' },
            ],
          },
        ],
      },
    )
  ).cert;
});

describe('client certificates', () => {
  it('reads the RFC 8705 thumbprint, the RFC 4514 subject DN and the SANs', () => {
    expect(clientCertificate(pem)).toEqual({
      x5tS256: createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url'),
      subjectDn: 'CN=agent-7,O=Fleet Inc,C=NL',
      sanDns: ['agent7.fleet.example'],
      sanUri: ['spiffe://fleet.example/agent-7'],
      sanIp: ['192.0.2.7'],
      sanEmail: [],
    });
    expect(clientCertificate('not a certificate')).toBeUndefined();
  });

  it('reaches the router from API Gateway’s mutual TLS context, never from a header', async () => {
    const seen: HttpRequest[] = [];
    const serve = serveApiGatewayEvents(async (request) => {
      seen.push(request);
      return { status: 204, headers: {} };
    });
    const event = apiEvent('POST', '/token', { headers: { 'x-client-cert': pem } });
    await serve(event);
    await serve({
      ...event,
      requestContext: {
        ...event.requestContext,
        authentication: {
          clientCert: {
            clientCertPem: pem,
            subjectDN: 'CN=agent-7',
            issuerDN: 'CN=agent-7',
            serialNumber: '1',
            validity: { notBefore: '', notAfter: '' },
          },
        },
      },
    } as typeof event);
    expect(seen[0]?.clientCertificate).toBeUndefined();
    expect(seen[1]?.clientCertificate?.sanDns).toEqual(['agent7.fleet.example']);
  });

  it('refuses tls_client_auth and bound tokens where no certificate can arrive', () => {
    for (const metadata of [
      { token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_dns: 'a.example' },
      { tls_client_certificate_bound_access_tokens: true },
    ]) {
      const attempt = () =>
        validateClientMetadata({ grant_types: ['client_credentials'], ...metadata }, {}, 1);
      expect(attempt).toThrow(OAuthError);
      expect(attempt).toThrow(/mutual TLS/);
    }
  });
});
