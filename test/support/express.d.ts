/** The part of Express 5 the adapter tests use (Express ships no types; @types/express is not installed). */
declare module 'express' {
  import type { IncomingMessage, Server, ServerResponse } from 'node:http';

  type Request = IncomingMessage & Record<string, unknown>;
  type Response = ServerResponse & { json(body: unknown): void; status(code: number): Response };
  type Handler = (req: Request, res: Response, next: (error?: unknown) => void) => unknown;

  interface Application {
    use(...handlers: Handler[]): Application;
    get(path: string, ...handlers: Handler[]): Application;
    post(path: string, ...handlers: Handler[]): Application;
    listen(port: number, host: string, callback: () => void): Server;
  }
  interface Express {
    (): Application;
    json(options?: { verify?: (req: Request, res: Response, body: Buffer) => void }): Handler;
  }
  const express: Express;
  export default express;
}
