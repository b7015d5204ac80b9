/**
 * The benchmark drives oidc-provider's callback and seeds its models; its own types are not
 * needed.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Model {
    /** Stores the model; resolves to its value (the jti, for opaque tokens). */
    save(): Promise<string>;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    readonly Grant: new (
      payload: Record<string, unknown>,
    ) => Model & { addResourceScope(resource: string, scope: string): void };
    readonly AuthorizationCode: new (
      payload: Record<string, unknown>,
    ) => Model;
    readonly RefreshToken: new (
      payload: Record<string, unknown>,
    ) => Model;
  }
}
