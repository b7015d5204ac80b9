import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { chain, memoize } from '@smithy/core/config';

type ProviderInit = Parameters<typeof fromEnv>[0] & Parameters<typeof fromHttp>[0];
type Credentials = { readonly expiration?: Date };

/** As the SDK's default chain: credentials that expire are fetched again 5 minutes before. */
const REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * The AWS SDK's default credential provider as a Lambda function needs it, put in place of
 * `@aws-sdk/credential-provider-node` when the functions are bundled (an esbuild alias,
 * lib/constructs/deployed-lambda.ts). Lambda hands a function its execution role's credentials in
 * the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), or, where
 * it serves them from a local endpoint, through `AWS_CONTAINER_CREDENTIALS_FULL_URI` and its
 * authorization token: those two sources, in that order. The full chain's profile files, SSO,
 * web identity, credential process and instance metadata never apply in Lambda and would carry
 * the STS, SSO and sign-in clients into every bundle (about 120 KB minified).
 */
export const defaultProvider = (init: ProviderInit = {}) =>
  memoize(
    chain(fromEnv(init), async () => fromHttp(init)()),
    (credentials: Credentials) =>
      credentials.expiration !== undefined &&
      credentials.expiration.getTime() - Date.now() < REFRESH_BEFORE_MS,
    (credentials: Credentials) => credentials.expiration !== undefined,
  );
