import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { LocalApp } from '../../local/app.js';
import { startTestServer } from './server.js';
import { UPSTREAM_CLIENT } from './upstream-client.js';

export { UPSTREAM_CLIENT };

export interface Upstream {
  /** http://127.0.0.1:<port>: known before the provider is configured. */
  readonly issuer: string;
  /** Creates the provider, with our server's callback(s) registered for both clients. */
  configure(redirectUris: readonly string[]): void;
  close(): Promise<void>;
}

/**
 * An upstream OpenID Provider for tests: oidc-provider 9 with its development interactions
 * (login form field `login`, any password; then a consent page), on 127.0.0.1. Two phases: the
 * port (hence the issuer) first, so our server can be started with it, then `configure` with
 * our server's callback URL once that is known.
 */
export async function startUpstream(): Promise<Upstream> {
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handle) return handle(req, res);
    res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return {
    issuer,
    configure(redirectUris) {
      const common = {
        redirect_uris: [...redirectUris],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      };
      const provider = new Provider(issuer, {
        jwks: { keys: [{ ...key.export({ format: 'jwk' }), alg: 'RS256', use: 'sig' }] },
        clients: [
          {
            ...common,
            client_id: UPSTREAM_CLIENT.id,
            client_secret: UPSTREAM_CLIENT.secret,
            token_endpoint_auth_method: 'client_secret_basic',
          },
          { ...common, client_id: UPSTREAM_CLIENT.publicId, token_endpoint_auth_method: 'none' },
        ],
        features: { devInteractions: { enabled: true } },
        cookies: { keys: ['upstream-test-cookie-key'] },
        pkce: { required: () => true },
        claims: { openid: ['sub'], email: ['email'] },
        findAccount: (_ctx: unknown, sub: string) => ({
          accountId: sub,
          claims: () => ({ sub, email: `${sub}@upstream.test` }),
        }),
      });
      handle = provider.callback();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Cookies per origin, all sent (oidc-provider scopes its own by path; tests need not). */
class CookieJar {
  private readonly jars = new Map<string, Map<string, string>>();

  header(url: URL): string {
    return [...(this.jars.get(url.origin) ?? new Map<string, string>())]
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
  }

  store(url: URL, response: Response) {
    const jar = this.jars.get(url.origin) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    this.jars.set(url.origin, jar);
  }
}

const formAction = (html: string, base: URL) => {
  const action = html.match(/<form[^>]*action="([^"]+)"/)?.[1];
  if (!action) throw new Error(`no form on ${base.href}: ${html.slice(0, 300)}`);
  return new URL(action.replace(/&amp;/g, '&'), base);
};

/**
 * A browser at the upstream only: follows its redirects from the authorization URL, signs in as
 * `login` (or aborts: `decision: 'deny'`), consents, and returns the first redirect that leaves
 * the upstream — the callback to our server, which it does not follow.
 */
export async function signInAtUpstream(
  authorizationUrl: string,
  options: { login?: string; decision?: 'allow' | 'deny'; jar?: CookieJar } = {},
): Promise<URL> {
  const jar = options.jar ?? new CookieJar();
  const upstream = new URL(authorizationUrl).origin;
  let url = new URL(authorizationUrl);
  let init: RequestInit = {};
  for (let step = 0; step < 20; step++) {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: jar.header(url) },
    });
    jar.store(url, response);
    init = {};
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url);
      if (url.origin !== upstream) return url;
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`upstream ${response.status}: ${html}`);
    const action = formAction(html, url);
    if (html.includes('name="prompt" value="login"')) {
      if (options.decision === 'deny') {
        const abort = html.match(/href="([^"]*\/abort)"/)?.[1];
        if (!abort) throw new Error(`no abort link at ${url.href}`);
        url = new URL(abort, url);
        continue;
      }
      url = action;
      init = {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          prompt: 'login',
          login: options.login ?? 'alice',
          password: 'any',
        }).toString(),
      };
    } else if (html.includes('name="prompt" value="consent"')) {
      url = action;
      init = {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'prompt=consent',
      };
    } else {
      throw new Error(`unexpected upstream page at ${url.href}`);
    }
  }
  throw new Error('too many steps at the upstream');
}

/**
 * Our server's settings for an upstream: on the local target the client secret itself; on the
 * stack target the template already names the secret's ARN (the Secrets Manager stand-in holds
 * the value), so only the issuer (the loopback upstream instead of the template's placeholder)
 * is overridden.
 */
export const upstreamEnv = (upstream: Pick<Upstream, 'issuer'>): Record<string, string> => ({
  DCR_UPSTREAM_ISSUER: upstream.issuer,
  DCR_UPSTREAM_CLIENT_ID: UPSTREAM_CLIENT.id,
  ...(process.env.DCR_TEST_TARGET !== 'stack' && {
    DCR_UPSTREAM_CLIENT_SECRET: UPSTREAM_CLIENT.secret,
  }),
});

/**
 * The server under test federated to a fresh upstream oidc-provider: the upstream's port first,
 * then our server with it, then the upstream configured with our `/callback`. Works on both
 * targets (local server, synthesized stack).
 */
export async function startFederatedServer(
  env: Record<string, string> = {},
): Promise<{ app: LocalApp; upstream: Upstream; close(): Promise<void> }> {
  const upstream = await startUpstream();
  const app = await startTestServer({ ...upstreamEnv(upstream), ...env });
  upstream.configure([`${app.issuer}/callback`]);
  return {
    app,
    upstream,
    close: async () => {
      await app.close();
      await upstream.close();
    },
  };
}
