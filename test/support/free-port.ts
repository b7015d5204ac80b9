import { createServer } from 'node:net';

/**
 * A loopback port free right now: for a server whose own URL must be known before it starts
 * (an MCP server's resource URL, which the authorization server is configured with first).
 */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
