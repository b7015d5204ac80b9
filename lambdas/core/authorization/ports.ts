/** Who signed in: the token's `sub`, and when they authenticated. */
export interface UserIdentity {
  readonly sub: string;
  readonly authTime: number;
}

/** What the upstream round trip needs kept (sealed in the browser's transaction cookie). */
export interface UpstreamPending {
  readonly nonce: string;
  readonly codeVerifier: string;
}

export type UpstreamOutcome =
  | { readonly identity: UserIdentity }
  /** denied: the user or the provider said no; unavailable: try again; invalid: never redirect. */
  | { readonly failure: 'denied' | 'unavailable' | 'invalid'; readonly detail: string };

/** Sign-in delegated to an upstream OpenID Provider (openid-client in the adapter). */
export interface UpstreamLogin {
  /** Where to send the browser (state, nonce and PKCE included). */
  begin(input: {
    readonly state: string;
    readonly redirectUri: string;
    readonly forceLogin: boolean;
  }): Promise<{ readonly location: string; readonly pending: UpstreamPending }>;
  /** Completes the round trip from the callback URL (state, nonce, PKCE and `iss` verified). */
  finish(
    callbackUrl: URL,
    expected: UpstreamPending & { readonly state: string; readonly redirectUri: string },
  ): Promise<UpstreamOutcome>;
}

/** The secret that keys browser cookies: a Secrets Manager secret in AWS, a file locally. */
export interface CookieKeySource {
  /** At least 32 bytes; read once per process (container) and cached by the caller. */
  key(): Promise<Uint8Array>;
}
