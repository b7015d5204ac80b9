import type { SignatureV4 } from '@smithy/signature-v4';

export interface AdminClientOptions {
  /** The server's base URL (the issuer); the admin API lives under /admin. */
  readonly url: string;
  /** Local server: the DCR_ADMIN_TOKEN bearer token. */
  readonly token?: string;
  /** Deployed server: sign with SigV4 (execute-api) using the standard credential chain. */
  readonly sigv4?: { readonly region: string };
}

export interface AdminResponse {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON from the server, shaped by each command.
  readonly body: any;
}

/** A request body sent as this JSON text, unparsed: the server judges what the operator wrote. */
export class JsonText {
  constructor(readonly text: string) {}
}

/** The admin API could not be called at all: the URL and the network's reason. */
export class AdminUnreachable extends Error {}

/** Why a fetch failed, as the network said it (`connect ECONNREFUSED 127.0.0.1:3000`). */
function networkCause(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof AggregateError) return cause.errors.map(networkCause).join('; ');
  if (cause instanceof Error) return cause.message;
  return (error as Error).message;
}

/** Calls the admin API with a bearer token (local) or SigV4 (AWS, IAM-authorized routes). */
export class AdminClient {
  /** The SigV4 signer, loaded (with the SDK's credential chain) only when first needed. */
  private signer?: Promise<SignatureV4>;

  constructor(private readonly options: AdminClientOptions) {}

  /** The server it calls (its issuer). */
  get url(): string {
    return this.options.url;
  }

  private sign(): Promise<SignatureV4> | undefined {
    const { sigv4 } = this.options;
    if (sigv4 === undefined) return undefined;
    this.signer ??= import('./sigv4.js').then((m) => m.executeApiSigner(sigv4.region));
    return this.signer;
  }

  async request(method: string, path: string, body?: unknown): Promise<AdminResponse> {
    const url = new URL(`${this.options.url.replace(/\/$/, '')}/admin${path}`);
    // A command with no filters sends no bare `?` (the path it signs is the path it sends).
    if (url.search === '') url.search = '';
    const payload =
      body === undefined ? undefined : body instanceof JsonText ? body.text : JSON.stringify(body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      ...(payload !== undefined && { 'content-type': 'application/json' }),
    };
    const signer = this.sign();
    if (signer) {
      const signed = await (await signer).sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port && { port: Number(url.port) }),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { ...headers, host: url.host },
        ...(payload !== undefined && { body: payload }),
      });
      headers = signed.headers as Record<string, string>;
    } else if (this.options.token) {
      headers.authorization = `Bearer ${this.options.token}`;
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(payload !== undefined && { body: payload }),
      });
    } catch (error) {
      throw new AdminUnreachable(
        `cannot reach ${url.origin}${url.pathname}: ${networkCause(error)}`,
      );
    }
    const text = await response.text();
    try {
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    } catch {
      throw new AdminUnreachable(
        `${url.origin}${url.pathname} answered ${response.status} with something other than JSON: is ${this.options.url} the server's issuer URL?`,
      );
    }
  }
}
