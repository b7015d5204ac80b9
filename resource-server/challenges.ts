import { DPOP_ALGORITHMS } from '../lambdas/core/tokens/dpop-proof.js';
import { metadataUrl } from './protected-resource-metadata.js';
import type { ResourceError, Verifier } from './verifier.js';

/** The HTTP answer to a refused request. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** An auth-param value as a quoted-string (RFC 9110 §5.6.4). */
const quoted = (value: string) => `"${value.replace(/[\\"]/g, '\\$&')}"`;

const challenge = (scheme: string, params: Record<string, string | undefined>) =>
  `${scheme} ${Object.entries(params)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${quoted(v)}`)
    .join(', ')}`;

/**
 * The answer to a refused request: RFC 6750 §3 and RFC 9449 §7.1 challenges (one per scheme the
 * resource accepts, the error in the scheme the client used) with RFC 9728's `resource_metadata`
 * and the `scope` the operation needs, plus a JSON error body.
 */
export function refusal(verifier: Verifier, error: ResourceError): Refusal {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'cache-control': 'no-store',
  };
  const body = JSON.stringify({ error: error.error, error_description: error.message });
  if (error.status === 503)
    return { status: 503, headers: { ...headers, 'retry-after': '5' }, body };

  const { dpop } = verifier.options;
  const { details } = error;
  const errorParams = details.noCredentials
    ? {}
    : { error: error.error, error_description: error.message };
  const shared = {
    resource_metadata: metadataUrl(verifier.resource),
    scope: details.scope?.length ? details.scope.join(' ') : undefined,
  };
  const dpopErrors = details.scheme === 'DPoP';
  const challenges = [
    ...(dpop?.required
      ? []
      : [challenge('Bearer', { ...shared, ...(dpopErrors ? {} : errorParams) })]),
    challenge('DPoP', {
      ...shared,
      algs: [...(dpop?.algorithms ?? DPOP_ALGORITHMS)].join(' '),
      ...(dpopErrors || dpop?.required ? errorParams : {}),
    }),
  ];
  headers['www-authenticate'] = challenges.join(', ');
  if (details.dpopNonce) headers['dpop-nonce'] = details.dpopNonce;
  return { status: error.status, headers, body };
}
