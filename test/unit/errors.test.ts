import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  accessDenied,
  clientGone,
  clientLimitReached,
  conflict,
  credentialRequired,
  forbidden,
  forbiddenRequest,
  invalidAdminToken,
  invalidClient,
  invalidClientMetadata,
  invalidDpopProof,
  invalidGrant,
  invalidInitialAccessToken,
  invalidRedirectUri,
  invalidRequest,
  invalidScope,
  invalidSoftwareStatement,
  invalidTarget,
  invalidToken,
  methodNotAllowed,
  misdirectedRequest,
  notFound,
  type OAuthError,
  payloadTooLarge,
  preconditionFailed,
  redirectedError,
  relayedError,
  signInRefused,
  temporarilyUnavailable,
  tooManyRequests,
  unapprovedSoftwareStatement,
  unauthorizedClient,
  unsupportedGrantType,
  useDpopNonce,
} from '../../lambdas/core/errors.js';
import { errorResponse } from '../../lambdas/http/responses.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ERRORS = join('lambdas', 'core', 'errors.ts');

describe('the error vocabulary', () => {
  it('is the only place an OAuthError is made', () => {
    const offenders: string[] = [];
    for (const dir of ['lambdas', 'local', 'cli', 'lib', 'bin', 'resource-server', 'examples']) {
      for (const file of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
        const path = join(dir, file);
        if (!/\.[cm]?[jt]s$/.test(file) || path.includes('node_modules') || path === ERRORS) {
          continue;
        }
        const source = readFileSync(join(root, path), 'utf8');
        for (const line of source.split('\n')) {
          if (/\bnew\s+OAuthError\b|\bextends\s+OAuthError\b/.test(line)) {
            offenders.push(`${path}: ${line.trim()}`);
          }
        }
      }
    }
    expect(offenders, 'use (or add) a named constructor in lambdas/core/errors.ts').toEqual([]);
  });

  // What each constructor puts on the wire: its status and code are fixed, not the caller's.
  it.each<[string, OAuthError, number, string, Record<string, string>]>([
    ['invalidRequest', invalidRequest('d'), 400, 'invalid_request', {}],
    ['forbiddenRequest', forbiddenRequest('d'), 403, 'invalid_request', {}],
    [
      'methodNotAllowed',
      methodNotAllowed('PATCH', ['GET', 'OPTIONS']),
      405,
      'invalid_request',
      { allow: 'GET, OPTIONS' },
    ],
    ['conflict', conflict('d'), 409, 'invalid_request', {}],
    ['preconditionFailed', preconditionFailed('d'), 412, 'invalid_request', {}],
    ['payloadTooLarge', payloadTooLarge('d'), 413, 'invalid_request', {}],
    ['misdirectedRequest', misdirectedRequest('d'), 421, 'invalid_request', {}],
    ['notFound', notFound('d'), 404, 'not_found', {}],
    ['invalidClient', invalidClient('d'), 401, 'invalid_client', {}],
    [
      'invalidClient after Basic',
      invalidClient('d', { basicTried: true }),
      401,
      'invalid_client',
      { 'www-authenticate': 'Basic realm="oauth", charset="UTF-8"' },
    ],
    ['clientGone', clientGone('d'), 400, 'invalid_client', {}],
    [
      'invalidToken',
      invalidToken('d'),
      401,
      'invalid_token',
      { 'www-authenticate': 'Bearer error="invalid_token", error_description="d"' },
    ],
    [
      'invalidInitialAccessToken',
      invalidInitialAccessToken('d'),
      401,
      'invalid_token',
      { 'www-authenticate': 'Bearer error="invalid_token"' },
    ],
    [
      'invalidAdminToken',
      invalidAdminToken('d'),
      401,
      'invalid_token',
      { 'www-authenticate': 'Bearer realm="admin", error="invalid_token"' },
    ],
    ['accessDenied', accessDenied('d'), 400, 'access_denied', {}],
    [
      'credentialRequired',
      credentialRequired('d'),
      401,
      'access_denied',
      { 'www-authenticate': 'Bearer' },
    ],
    ['signInRefused', signInRefused('d'), 401, 'access_denied', {}],
    ['forbidden', forbidden('d'), 403, 'access_denied', {}],
    ['clientLimitReached', clientLimitReached('d'), 403, 'access_denied', {}],
    ['invalidGrant', invalidGrant('d'), 400, 'invalid_grant', {}],
    ['invalidScope', invalidScope('d'), 400, 'invalid_scope', {}],
    ['invalidTarget', invalidTarget('d'), 400, 'invalid_target', {}],
    ['unauthorizedClient', unauthorizedClient('d'), 400, 'unauthorized_client', {}],
    ['unsupportedGrantType', unsupportedGrantType('d'), 400, 'unsupported_grant_type', {}],
    ['invalidDpopProof', invalidDpopProof('d'), 400, 'invalid_dpop_proof', {}],
    [
      'invalidDpopProof with a nonce',
      invalidDpopProof('d', 'n1'),
      400,
      'invalid_dpop_proof',
      { 'dpop-nonce': 'n1' },
    ],
    ['useDpopNonce', useDpopNonce('d', 'n1'), 400, 'use_dpop_nonce', { 'dpop-nonce': 'n1' }],
    ['invalidClientMetadata', invalidClientMetadata('d'), 400, 'invalid_client_metadata', {}],
    ['invalidRedirectUri', invalidRedirectUri('d'), 400, 'invalid_redirect_uri', {}],
    [
      'invalidSoftwareStatement',
      invalidSoftwareStatement('d'),
      400,
      'invalid_software_statement',
      {},
    ],
    [
      'unapprovedSoftwareStatement',
      unapprovedSoftwareStatement('d'),
      400,
      'unapproved_software_statement',
      {},
    ],
    ['tooManyRequests', tooManyRequests('d', 7), 429, 'too_many_requests', { 'retry-after': '7' }],
    [
      'temporarilyUnavailable',
      temporarilyUnavailable('d'),
      503,
      'temporarily_unavailable',
      { 'retry-after': '1' },
    ],
    ['relayedError of a 4xx', relayedError(409, 'conflicted', 'd'), 409, 'conflicted', {}],
    ['relayedError of a 5xx', relayedError(500, 'server_error', 'd'), 502, 'server_error', {}],
  ])('%s', (_, error, status, code, headers) => {
    const response = errorResponse(error);
    expect(response.status).toBe(status);
    expect(response.headers).toEqual({
      'content-type': 'application/json',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      ...headers,
    });
    expect(JSON.parse(response.body as string)).toEqual({
      error: code,
      error_description: error.description,
    });
  });

  it('keeps a dependency fault beside the error, never in its body', () => {
    const fault = { service: 'DynamoDB', errorName: 'ThrottlingException' };
    const error = temporarilyUnavailable('the table is busy', { fault });
    expect(error.fault).toEqual(fault);
    expect(errorResponse(error).body).not.toContain('Throttling');
  });

  it('sends an authorization error back to the client’s redirect URI', () => {
    const redirect = { uri: 'https://app.example/cb', state: 's' };
    const fault = { service: 'the identity provider (begin)', errorName: 'ECONNREFUSED' };
    const error = redirectedError('temporarily_unavailable', 'try again', { redirect, fault });
    expect(error).toMatchObject({
      status: 303,
      error: 'temporarily_unavailable',
      redirect,
      fault,
      headers: {},
    });
    expect(redirectedError('login_required', 'd', { redirect }).fault).toBeUndefined();
  });
});
