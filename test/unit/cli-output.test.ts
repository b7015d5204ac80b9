import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Io, main } from '../../cli/dcr-admin.js';
import { displaySafe, isDisplaySafe } from '../../lambdas/core/text.js';

// A client registered before control characters were refused, as the admin API returns it.
const HOSTILE = {
  client_id: 'c1',
  client_name: 'ok\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[8mhidden\u009b2J\u202Etxt.exe',
  software_id: 'sw\u001b[2K',
  grant_types: ['client_credentials'],
  token_endpoint_auth_method: 'client_secret_basic',
  client_id_issued_at: 1_800_000_000,
};

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify(req.url?.startsWith('/admin/clients/') ? HOSTILE : { clients: [HOSTILE] }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function run(...args: string[]) {
  const lines: string[] = [];
  const io: Io = { out: (l) => lines.push(l), err: (l) => lines.push(l) };
  const code = await main([...args, '--url', url, '--token', 'x'.repeat(40)], io);
  return { code, text: lines.join('\n') };
}

describe('dcr-admin prints client text safely', () => {
  it.each([['list'], ['list', '--json'], ['get', 'c1'], ['get', 'c1', '--json']])(
    '%s shows control and bidi characters as escapes',
    async (...args) => {
      const { code, text } = await run(...args);
      expect(code).toBe(0);
      expect(isDisplaySafe(text.replaceAll('\n', ' '))).toBe(true);
      expect(text).toContain('ok\\u001b]52;c;');
      expect(text).toContain('\\u202e');
    },
  );

  it('keeps --json output valid JSON that decodes to the original text', async () => {
    const { text } = await run('get', 'c1', '--json');
    expect(JSON.parse(text).client_name).toBe(HOSTILE.client_name);
  });

  it('leaves ordinary text, any script included, as it is', () => {
    expect(displaySafe('エージェント agent 🤖')).toBe('エージェント agent 🤖');
  });
});
