import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../cli/admin-client.js';
import {
  type InteractiveServer,
  publicClientGrants,
  STACK,
  startInteractiveServer,
  tokenRequest,
} from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * Concurrency over HTTP, on the local server and on the synthesized stack alike: what many
 * requests at once may and may not do to one registry. The initial access token's exact use
 * counting under concurrency is in `initial-access-tokens.e2e` (3N registrations, N clients).
 */
const ADMIN_TOKEN = 'local-admin-token-0123456789-abcdefghijklmnop';
const REDIRECT = 'http://127.0.0.1:8765/callback';
const machine = { grant_types: ['client_credentials'], client_name: 'fleet' };

let server: InteractiveServer;
let issuer: string;
let admin: AdminClient;

beforeAll(async () => {
  if (STACK) {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'operator',
      AWS_SECRET_ACCESS_KEY: 'operator-secret',
    });
  }
  server = await startInteractiveServer(
    { DCR_ADMIN_TOKEN: ADMIN_TOKEN },
    { DCR_DEV_USERS: 'alice' },
  );
  issuer = server.app.issuer;
  admin = new AdminClient(
    STACK ? { url: issuer, sigv4: { region: 'local' } } : { url: issuer, token: ADMIN_TOKEN },
  );
});
afterAll(() => server.close());

const register = async (body: Json = machine) => {
  const response = await jsonPost(`${issuer}/register`, body);
  expect(response.status).toBe(201);
  return readJson(response);
};
const form = (params: Record<string, string>, headers: Record<string, string> = {}) =>
  tokenRequest(issuer, params, headers);
const publicClient = (name: string) => ({
  client_name: name,
  redirect_uris: [REDIRECT],
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'none',
});
type Grants = Awaited<ReturnType<typeof publicClientGrants>>;
const basic = (c: Json) =>
  `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`;

/** Every client the operator's listing shows, page by page. */
async function listedClientIds(): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | undefined;
  do {
    const query = `limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { status, body } = await admin.request('GET', `/clients?${query}`);
    expect(status).toBe(200);
    const page = body as { clients: { client_id: string }[]; next_cursor?: string };
    for (const c of page.clients) ids.add(c.client_id);
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
}

const activeClients = async () => {
  const { body } = await admin.request('GET', '/stats?days=1');
  return (body as { active_clients: number }).active_clients;
};

/** Polls until `read` gives `expected` (counters follow the changes a moment later), or times out. */
async function eventually<T>(read: () => Promise<T>, expected: T, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

/**
 * A client with a connection per request, which begins at most `handshakes` TLS handshakes at
 * once. The test's client shares its event loop with the stack's stand-ins (API Gateway, the
 * store, IAM): 500 handshakes begun in one instant queue behind the requests being served, and
 * under load the last ones outlasted undici's 10 s connect timeout ("fetch failed"). A fleet's
 * agents handshake on machines of their own. The requests are still all sent at once: over 450
 * of the 500 are in flight together, as many as without the limit.
 */
function burstClient(handshakes: number): Agent {
  const connect = buildConnector({});
  const waiting: (() => void)[] = [];
  let connecting = 0;
  return new Agent({
    connect: (options, done) => {
      const begin = () => {
        connecting++;
        connect(options, (...result) => {
          connecting--;
          waiting.shift()?.();
          done(...result);
        });
      };
      if (connecting < handshakes) begin();
      else waiting.push(begin);
    },
  });
}

describe('registration under load', () => {
  it('500 concurrent registrations: 500 distinct clients, all listed and counted', async () => {
    const activeBefore = await activeClients();
    const listedBefore = await listedClientIds();
    const fleet = burstClient(50);
    const responses = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        undiciFetch(`${issuer}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...machine, client_name: `fleet-${i}` }),
          dispatcher: fleet,
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(500).fill(201));
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<Json>));
    await fleet.close();
    const ids = new Set(bodies.map((b) => b.client_id as string));
    expect(ids.size).toBe(500);
    expect(new Set(bodies.map((b) => b.client_secret)).size).toBe(500);
    expect(new Set(bodies.map((b) => b.registration_access_token)).size).toBe(500);
    const listed = await listedClientIds();
    expect([...ids].filter((id) => !listed.has(id))).toEqual([]);
    expect(listed.size).toBe(listedBefore.size + 500);
    expect(await eventually(activeClients, activeBefore + 500)).toBe(activeBefore + 500);
  }, 60_000);
});

describe('RFC 7592 updates of one client', () => {
  it('each round, of 8 PUTs made from the same read (If-Match), exactly one wins; the rest get 412; nothing is lost', async () => {
    const agent = await register();
    const auth = { authorization: `Bearer ${agent.registration_access_token}` };
    for (let round = 0; round < 5; round++) {
      const read = await fetch(agent.registration_client_uri, { headers: auth });
      const etag = read.headers.get('etag') as string;
      expect(etag).toBe(`"${round + 1}"`);
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          fetch(agent.registration_client_uri, {
            method: 'PUT',
            headers: { ...auth, 'content-type': 'application/json', 'if-match': etag },
            body: JSON.stringify({
              ...machine,
              client_id: agent.client_id,
              client_name: `round-${round}-writer-${i}`,
            }),
          }),
        ),
      );
      const winners = responses.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      const losers = responses.filter((r) => r.status !== 200);
      expect(losers.map((r) => r.status)).toEqual(Array(7).fill(412));
      for (const loser of losers) {
        expect(await readJson(loser)).toEqual({
          error: 'invalid_request',
          error_description: expect.stringContaining('If-Match'),
        });
      }
      const won = await readJson(winners[0] as Response);
      expect(winners[0]?.headers.get('etag')).toBe(`"${round + 2}"`);
      const after = await fetch(agent.registration_client_uri, { headers: auth }).then(readJson);
      expect(after.client_name).toBe(won.client_name);
    }
  });

  it('without If-Match, concurrent PUTs never both write from one version: 200 or 409, and the last 200 is what is stored', async () => {
    const agent = await register();
    const auth = { authorization: `Bearer ${agent.registration_access_token}` };
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fetch(agent.registration_client_uri, {
          method: 'PUT',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ ...machine, client_id: agent.client_id, client_name: `w${i}` }),
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    const winners = responses.filter((r) => r.status === 200);
    // Each 200 wrote one version: their ETags are distinct, and the newest is what is stored.
    const versions = winners.map((r) => Number(JSON.parse(r.headers.get('etag') as string)));
    expect(new Set(versions).size).toBe(winners.length);
    const bodies = await Promise.all(winners.map(readJson));
    const newest = bodies[versions.indexOf(Math.max(...versions))];
    const stored = await fetch(agent.registration_client_uri, { headers: auth });
    expect(stored.headers.get('etag')).toBe(`"${1 + winners.length}"`);
    expect((await readJson(stored)).client_name).toBe(newest?.client_name);
  });
});

describe('user grants', () => {
  let signIn: Grants['signIn'];
  let redeem: Grants['redeem'];
  let refresh: Grants['refresh'];
  beforeAll(async () => {
    const mcp = await register(publicClient('mcp'));
    ({ signIn, redeem, refresh } = await publicClientGrants(issuer, mcp.client_id, REDIRECT));
  });

  it('one authorization code redeemed 10 times at once: exactly one success, the rest invalid_grant', async () => {
    const grant = await signIn();
    const responses = await Promise.all(Array.from({ length: 10 }, () => redeem(grant)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(9);
    for (const r of responses.filter((r) => r.status === 400)) {
      expect((await readJson(r)).error).toBe('invalid_grant');
    }
    // The replays revoke what the code gave (docs/tokens.md "Tokens"): its refresh token is dead.
    const won = await readJson(responses.find((r) => r.status === 200) as Response);
    expect(won.access_token).toEqual(expect.any(String));
    expect((await refresh(won.refresh_token)).status).toBe(400);
  });
});

describe('DELETE racing token requests', () => {
  it('no token is issued to a request sent after the delete was acknowledged', async () => {
    const agent = await register();
    const mcp = await register(publicClient('mcp-delete'));
    const grants = await publicClientGrants(issuer, mcp.client_id, REDIRECT);
    const first = await readJson(await grants.redeem(await grants.signIn()));
    let refreshToken = first.refresh_token as string;

    let acknowledged = Number.POSITIVE_INFINITY;
    const outcomes: { sentAt: number; status: number; kind: string }[] = [];
    const stopAt = () => acknowledged + 300;
    const clientCredentials = async () => {
      while (performance.now() < stopAt()) {
        const sentAt = performance.now();
        const r = await form({ grant_type: 'client_credentials' }, { authorization: basic(agent) });
        outcomes.push({ sentAt, status: r.status, kind: 'client_credentials' });
        await r.arrayBuffer();
      }
    };
    // One refresh chain (each success rotates the token the next request presents).
    const refreshing = async () => {
      while (performance.now() < stopAt()) {
        const sentAt = performance.now();
        const r = await grants.refresh(refreshToken);
        outcomes.push({ sentAt, status: r.status, kind: 'refresh_token' });
        const body = await readJson(r);
        if (r.status === 200) refreshToken = body.refresh_token;
      }
    };
    const remove = async (c: Json) => {
      const r = await fetch(c.registration_client_uri, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${c.registration_access_token}` },
      });
      expect(r.status).toBe(204);
      return performance.now();
    };
    const deleting = async () => {
      // Let tokens flow first, then delete both clients; the 204s' arrival is the moment.
      while (outcomes.filter((o) => o.status === 200).length < 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const [a, b] = await Promise.all([remove(agent), remove(mcp)]);
      acknowledged = Math.max(a, b);
    };
    await Promise.all([...Array.from({ length: 6 }, clientCredentials), refreshing(), deleting()]);
    const after = outcomes.filter((o) => o.sentAt > acknowledged);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((o) => o.status !== 401)).toEqual([]);
    expect(after.some((o) => o.kind === 'refresh_token')).toBe(true);
    expect(outcomes.some((o) => o.status === 200 && o.kind === 'refresh_token')).toBe(true);
  });
});
