import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { Browser } from './browser.js';

/**
 * An MCP SDK client's OAuth state for tests of protected MCP servers: a public client that
 * registers dynamically, and a person (`alice`) who signs in and consents in a scripted browser.
 */
const REDIRECT = 'http://localhost:47124/callback';

export class SdkProvider implements OAuthClientProvider {
  code?: string;
  private info?: OAuthClientInformationMixed;
  private saved?: OAuthTokens;
  private verifier = '';
  readonly redirectUrl = REDIRECT;
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: 'Kit test MCP client',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  clientInformation = () => this.info;
  saveClientInformation = (info: OAuthClientInformationMixed) => {
    this.info = info;
  };
  tokens = () => this.saved;
  saveTokens = (tokens: OAuthTokens) => {
    this.saved = tokens;
  };
  saveCodeVerifier = (verifier: string) => {
    this.verifier = verifier;
  };
  codeVerifier = () => this.verifier;
  async redirectToAuthorization(url: URL) {
    const callback = await new Browser().signIn(url, { user: 'alice', stopAt: REDIRECT });
    this.code = callback.searchParams.get('code') ?? undefined;
  }
}
