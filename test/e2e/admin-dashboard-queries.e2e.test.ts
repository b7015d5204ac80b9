import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../cli/admin-client.js';
import type { LocalApp } from '../../local/app.js';
import {
  type Json,
  jsonPost,
  operatorAdmin,
  readJson,
  startTestServer,
} from '../support/server.js';

/**
 * The two admin API queries the dashboard added, on both targets (on the stack through the IAM
 * route, the admin function's role and the IAM gate): `search` (name prefix, client_id or
 * software_id) and the clients expiring soon, read from the expiry index.
 */
const ADMIN_TOKEN = 'queries-admin-token-0123456789-abcdefghijklm';
const UNUSED_LIFETIME = 3600;

let app: LocalApp;
let admin: AdminClient;
const tag = `q${Date.now()}`;
const clients: Json[] = [];

beforeAll(async () => {
  app = await startTestServer({
    DCR_ADMIN_TOKEN: ADMIN_TOKEN,
    DCR_AUDIT_LOG: 'off',
    DCR_CLIENT_UNUSED_LIFETIME_SECONDS: String(UNUSED_LIFETIME),
  });
  admin = operatorAdmin(app.issuer, ADMIN_TOKEN);
  for (const [name, software] of [
    [`${tag}-alpha`, `${tag}-fleet`],
    [`${tag}-beta`, `${tag}-fleet`],
    [`other-${tag}`, undefined],
  ] as const) {
    const response = await jsonPost(`${app.issuer}/register`, {
      client_name: name,
      grant_types: ['client_credentials'],
      ...(software && { software_id: software }),
    });
    clients.push(await readJson(response));
  }
});
afterAll(() => app?.close());

/** Every page of a search (a scan: matches may sit on any page). */
async function search(text: string): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ search: text, limit: '500', ...(cursor && { cursor }) });
    const { status, body } = await admin.request('GET', `/clients?${query}`);
    expect(status).toBe(200);
    names.push(...body.clients.map((c: Json) => c.client_name));
    cursor = body.next_cursor;
  } while (cursor);
  return names.sort();
}

describe('admin API queries for the dashboard', () => {
  it('searches by client_name prefix, by exact client_id and by exact software_id', async () => {
    expect(await search(tag)).toEqual([`${tag}-alpha`, `${tag}-beta`]);
    expect(await search(clients[2]?.client_id)).toEqual([`other-${tag}`]);
    expect(await search(`${tag}-fleet`)).toEqual([`${tag}-alpha`, `${tag}-beta`]);
    expect(await search(`${tag}-fle`)).toEqual([]);
    const { status } = await admin.request('GET', `/clients?search=${'x'.repeat(1001)}`);
    expect(status).toBe(400);
  });

  it('lists the clients expiring within a window, soonest first, from the expiry index', async () => {
    const soon = await admin.request('GET', `/expiring-clients?within=${UNUSED_LIFETIME + 60}`);
    expect(soon.status).toBe(200);
    const ids = soon.body.clients.map((c: Json) => c.client_id);
    for (const client of clients) expect(ids).toContain(client.client_id);
    const until = soon.body.clients.map((c: Json) => c.active_until);
    expect(until).toEqual([...until].sort((a, b) => a - b));
    for (const c of soon.body.clients) expect(c).not.toHaveProperty('client_secret');

    // Not yet within a window shorter than their remaining life.
    const later = await admin.request('GET', '/expiring-clients?within=60');
    expect(later.body.clients.map((c: Json) => c.client_id)).not.toContain(clients[0]?.client_id);
    const limited = await admin.request(
      'GET',
      `/expiring-clients?within=${UNUSED_LIFETIME + 60}&limit=1`,
    );
    expect(limited.body.clients).toHaveLength(1);
    for (const bad of ['within=0', 'within=abc', 'limit=1000', `within=${31 * 86400}`]) {
      const { status, body } = await admin.request('GET', `/expiring-clients?${bad}`);
      expect([bad, status, body.error]).toEqual([bad, 400, 'invalid_request']);
    }
  });

  it('ranks software_ids by active clients from their counters, and follows a deletion', async () => {
    const top = async () => {
      const { status, body } = await admin.request('GET', '/stats/software?limit=100');
      expect(status).toBe(200);
      return body.software_ids.find((s: Json) => s.software_id === `${tag}-fleet`);
    };
    const eventually = async (expected: unknown) => {
      let seen: unknown;
      for (let i = 0; i < 20; i++) {
        seen = await top();
        if (JSON.stringify(seen) === JSON.stringify(expected)) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(seen).toEqual(expected);
    };
    await eventually({ software_id: `${tag}-fleet`, active_clients: 2 });
    expect((await admin.request('DELETE', `/clients/${clients[0]?.client_id}`)).status).toBe(204);
    await eventually({ software_id: `${tag}-fleet`, active_clients: 1 });
    for (const bad of ['limit=0', 'limit=101', 'limit=x']) {
      const { status } = await admin.request('GET', `/stats/software?${bad}`);
      expect([bad, status]).toEqual([bad, 400]);
    }
  });
});
