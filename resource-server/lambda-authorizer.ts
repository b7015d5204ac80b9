import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { contentDigest } from '../lambdas/core/tokens/dpop-proof.js';
import { createVerifier, ResourceError, type Verifier, type VerifyOptions } from './verifier.js';

/** What the authorizer passes to the integration (`requestContext.authorizer.lambda`). */
export interface AuthorizerContext {
  sub: string;
  client_id: string;
  scope: string;
  /** `DPoP` or `Bearer`. */
  token_type: string;
  /** The bound key's thumbprint; empty for Bearer. */
  jkt: string;
  /** The proof's MCP `content_digest`, for the integration to check against the body. */
  content_digest: string;
}

type Result = APIGatewaySimpleAuthorizerWithContextResult<
  AuthorizerContext | Record<string, never>
>;

/**
 * An API Gateway HTTP API Lambda request authorizer (payload 2.0, simple responses) over a
 * verifier. An authorizer does not see the request body: with the MCP DPoP profile it checks
 * everything else and passes the proof's `content_digest` on, and the integration calls
 * {@link bodyMatchesDigest}.
 */
export function lambdaAuthorizer(verifier: Verifier, options: VerifyOptions = {}) {
  return async (event: APIGatewayRequestAuthorizerEventV2): Promise<Result> => {
    const headers = event.headers ?? {};
    const url = new URL(event.rawPath ?? '/', new URL(verifier.resource).origin).href;
    try {
      const identity = await verifier.verify(
        {
          method: event.requestContext.http.method,
          url,
          authorization: headers.authorization,
          dpop: headers.dpop,
        },
        options,
      );
      return {
        isAuthorized: true,
        context: {
          sub: identity.sub,
          client_id: identity.clientId,
          scope: identity.scopes.join(' '),
          token_type: identity.scheme,
          jkt: identity.jkt ?? '',
          content_digest: identity.contentDigest ?? '',
        },
      };
    } catch (error) {
      // API Gateway answers 403 for any denial; the cause is logged without the token.
      if (error instanceof ResourceError) {
        console.log(JSON.stringify({ refused: error.error, reason: error.message }));
        return { isAuthorized: false, context: {} };
      }
      throw error;
    }
  };
}

/**
 * The integration's half of the MCP DPoP profile behind an authorizer: the body it received is
 * the one the proof signed. True when no digest was required (Bearer, or the profile off).
 */
export function bodyMatchesDigest(
  body: string | Uint8Array,
  context: Partial<AuthorizerContext> | undefined,
): boolean {
  const expected = context?.content_digest;
  return !expected || expected === contentDigest(body);
}

/** The authorizer the CDK construct deploys, configured by its environment. */
export function authorizerFromEnvironment(env = process.env) {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const verifier = createVerifier({
    issuer: required('RS_ISSUER'),
    resource: required('RS_RESOURCE'),
    dpop: {
      required: env.RS_DPOP_REQUIRED === 'true',
      contentDigest: env.RS_DPOP_CONTENT_DIGEST === 'true',
    },
  });
  const scopes = (env.RS_SCOPES ?? '').split(' ').filter(Boolean);
  return lambdaAuthorizer(verifier, { scopes });
}
