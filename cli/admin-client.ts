import { createHash, createHmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: SourceData) =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256 and HMAC-SHA-256 for the SigV4 signer, from node:crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

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

/** Calls the admin API with a bearer token (local) or SigV4 (AWS, IAM-authorized routes). */
export class AdminClient {
  private readonly signer?: SignatureV4;

  constructor(private readonly options: AdminClientOptions) {
    if (options.sigv4) {
      this.signer = new SignatureV4({
        service: 'execute-api',
        region: options.sigv4.region,
        credentials: defaultProvider(),
        sha256: Sha256,
      });
    }
  }

  async request(method: string, path: string, body?: unknown): Promise<AdminResponse> {
    const url = new URL(`${this.options.url.replace(/\/$/, '')}/admin${path}`);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      ...(payload !== undefined && { 'content-type': 'application/json' }),
    };
    if (this.signer) {
      const signed = await this.signer.sign({
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
    const response = await fetch(url, {
      method,
      headers,
      ...(payload !== undefined && { body: payload }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }
}
