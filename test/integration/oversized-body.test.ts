import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { MAX_BODY_BYTES } from '../../lambdas/http/request.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';

/**
 * A defect as a new user met it: after an oversized upload the server answered 413
 * and then cut the connection the client still held as keep-alive, so the client's next request
 * on it failed with ECONNRESET. A response after which the server will not read the rest of
 * the body must say `Connection: close`; one whose body it did read keeps the connection.
 */
const machine = JSON.stringify({ grant_types: ['client_credentials'], client_name: 'after' });

let app: LocalApp;
beforeAll(async () => {
  app = await startLocalApp(loadConfig({ PORT: '0' }), { store: 'memory' });
});
afterAll(() => app.close());

/** One request through `agent`, with the answer's status, headers and whole body. */
function send(agent: Agent, body: string | Buffer, path = '/register') {
  return new Promise<{ status: number; connection?: string; body: string; socket: number }>(
    (resolve, reject) => {
      const req = request(
        `${app.issuer}${path}`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              ...(res.headers.connection && { connection: res.headers.connection }),
              body: Buffer.concat(chunks).toString(),
              socket: res.socket?.localPort ?? 0,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    },
  );
}

describe('an oversized request body on a keep-alive connection', () => {
  it.each([
    ['just over the limit (read and discarded: the connection stays)', MAX_BODY_BYTES + 1],
    ['far over the limit (not read: Connection: close)', 40 * MAX_BODY_BYTES],
  ])('%s: 413 with a JSON error, then ordinary requests succeed', async (_, size) => {
    // One socket at a time: the requests after the upload go where the upload went, or to a
    // fresh connection when the server said it closes.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const oversized = await send(agent, Buffer.alloc(size, 'a'));
      expect(oversized.status).toBe(413);
      expect(JSON.parse(oversized.body)).toMatchObject({ error: 'invalid_request' });
      for (let i = 0; i < 5; i++) {
        const next = await send(agent, machine);
        expect(next.status).toBe(201);
      }
    } finally {
      agent.destroy();
    }
  });

  it("through Node's fetch (undici's keep-alive pool), as the user met it", async () => {
    const post = (body: string | Uint8Array) =>
      fetch(`${app.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const oversized = await post(new Uint8Array(40 * MAX_BODY_BYTES).fill(97));
    expect(oversized.status).toBe(413);
    expect(oversized.headers.get('connection')).toBe('close');
    await oversized.text();
    for (let i = 0; i < 5; i++) expect((await post(machine)).status).toBe(201);
  });

  it('after its 413 the server still takes what the client sends, then closes: no reset mid-upload', async () => {
    // Half-open allowed: the server's FIN (its answer is complete) does not end our upload.
    const socket = connect({ port: app.port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise((resolve) => socket.once('connect', resolve));
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let failure: Error | undefined;
    socket.on('error', (error) => {
      failure = error;
    });
    const write = (data: string | Buffer) =>
      new Promise<void>((resolve, reject) =>
        socket.write(data, (error) => (error ? reject(error) : resolve())),
      );
    const total = 64 * MAX_BODY_BYTES;
    await write(
      `POST /register HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${total}\r\n\r\n`,
    );
    const chunk = Buffer.alloc(MAX_BODY_BYTES, 'a');
    // Past the drain limit: the server answers before the upload is done.
    for (let sent = 0; sent < 20 * MAX_BODY_BYTES; sent += chunk.length) await write(chunk);
    // The whole answer: its headers, then as many bytes of body as its content-length says.
    await expect
      .poll(() => Buffer.concat(received).toString())
      .toMatch(/\r\n\r\n\{"error":"invalid_request","error_description":"[^"]*"\}$/);
    const answer = Buffer.concat(received).toString();
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    // The rest of the upload still goes through: the server discards it instead of resetting.
    for (let sent = 20 * MAX_BODY_BYTES; sent < total; sent += chunk.length) await write(chunk);
    socket.end();
    await closed;
    expect(failure).toBeUndefined();
  });
});
