import { type IncomingMessage, request } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';

let app: LocalApp;
beforeAll(async () => {
  app = await startLocalApp(loadConfig({ PORT: '0', DCR_AUDIT_LOG: 'off' }), { store: 'memory' });
});
afterAll(() => app.close());

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One request over a fresh connection, with the raw headers and the body's bytes. */
async function send(
  method: string,
  path: string,
  options: { body?: string; host?: string; authorization?: string } = {},
): Promise<Answer> {
  const headers = {
    'content-type': 'application/json',
    ...(options.host && { host: options.host }),
    ...(options.authorization && { authorization: options.authorization }),
  };
  const res = await new Promise<IncomingMessage>((resolve, reject) =>
    request({ host: '127.0.0.1', port: app.port, method, path, headers }, resolve)
      .on('error', reject)
      .end(options.body),
  );
  return { status: res.statusCode ?? 0, headers: res.headers, body: await buffer(res) };
}

describe('the local server’s answers', () => {
  it('carry the length of their body in bytes, not chunked encoding', async () => {
    const registered = await send('POST', '/register', {
      body: JSON.stringify({ grant_types: ['client_credentials'], client_name: 'Zoë’s agent ✓' }),
    });
    expect(registered.status).toBe(201);
    expect(registered.headers['transfer-encoding']).toBeUndefined();
    expect(registered.headers['content-length']).toBe(String(registered.body.length));
    const client = JSON.parse(registered.body.toString());
    expect(client.client_name).toBe('Zoë’s agent ✓');

    const discovery = await send('GET', '/.well-known/oauth-authorization-server');
    expect(discovery.headers['transfer-encoding']).toBeUndefined();
    expect(discovery.headers['content-length']).toBe(String(discovery.body.length));

    const refused = await send('POST', '/register', { body: '{' });
    expect(refused.status).toBe(400);
    expect(refused.headers['content-length']).toBe(String(refused.body.length));

    // No content: no length claimed (RFC 9110 §8.6: never on a 204).
    const deleted = await send('DELETE', `/register/${client.client_id}`, {
      authorization: `Bearer ${client.registration_access_token}`,
    });
    expect(deleted.status).toBe(204);
    expect(deleted.headers['content-length']).toBeUndefined();
  });

  it('judge every request’s Host header, however the ones before it were judged', async () => {
    const discovery = '/.well-known/oauth-authorization-server';
    for (const [host, status] of [
      [`127.0.0.1:${app.port}`, 200],
      ['attacker.example', 421],
      ['attacker.example', 421],
      [`localhost:${app.port}`, 200],
      ['attacker.example', 421],
      [`127.0.0.1:${app.port}`, 200],
    ] as const) {
      expect((await send('GET', discovery, { host })).status, host).toBe(status);
    }
  });
});
