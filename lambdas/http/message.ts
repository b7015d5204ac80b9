import type { ClientCertificate } from '../core/clients/ports.js';

/**
 * The router's request and response: plain objects, shaped like the Fetch API's but without
 * its streams. Both adapters (API Gateway events, node:http) map to them in a few lines, and
 * on Node 20 a Web Request/Response pair with a body costs more than registering a client.
 */
export interface HttpRequest {
  readonly method: string;
  /** The raw (still percent-encoded) path, without the query. */
  readonly path: string;
  /** The raw query string, without the `?`. */
  readonly query: string;
  /**
   * Header names in lower case; repeated headers joined with ", " (`cookie` with "; ", as
   * API Gateway's `cookies` array is joined).
   */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body?: Uint8Array;
  /** The caller's address as the platform reports it (API Gateway, the socket): audit only. */
  readonly sourceIp?: string;
  /** The IAM principal API Gateway authenticated (SigV4) on IAM-authorized routes; never a header. */
  readonly principal?: string;
  /** The client certificate the TLS layer verified (mutual TLS), never a header. */
  readonly clientCertificate?: ClientCertificate;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Absent for 204 and preflights. */
  readonly body?: string;
  /** The body is binary content in base64 (an image), sent as its bytes. */
  readonly base64?: true;
  /** The client the request concerned, when known: logged, never sent. */
  readonly clientId?: string;
  /** `Set-Cookie` values (API Gateway returns them as `cookies`, node:http as repeated headers). */
  readonly cookies?: readonly string[];
  /**
   * The OAuth error code of an error response (JSON, an HTML page, a redirect): logged and
   * counted, never parsed back out of the body.
   */
  readonly error?: string;
  /** Who made the request (admin routes: IAM principal or local admin token): logged, never sent. */
  readonly actor?: string;
}
