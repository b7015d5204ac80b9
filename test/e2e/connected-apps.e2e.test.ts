import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from '../support/browser.js';
import {
  type InteractiveServer,
  publicClientGrants,
  startInteractiveServer,
  tokenRequest,
} from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * The users' connected-apps page (`/account`, docs/sign-in.md "Connected apps") over real HTTP
 * on both targets: a user signs in there as at `/authorize`, sees their own grants and no one
 * else's, and a Revoke ends exactly the grant its form names.
 */
const REDIRECT = 'http://127.0.0.1:8765/callback';
/** Never reached: the account page's sign-in ends on this server, not at a client. */
const NO_CLIENT = 'http://127.0.0.1:1/none';

let server: InteractiveServer;
let issuer: string;
/** A confidential client (it introspects its own tokens) and a public one. */
let agentX: Json;
let agentY: Json;

interface Connection {
  readonly grantId: string;
  readonly accessToken: string;
  refreshToken: string;
}

/** A user signs in, allows the client, and the client redeems the code. */
async function connect(client: Json, user: string): Promise<Connection> {
  const grants = await publicClientGrants(issuer, client.client_id, REDIRECT, user);
  const { code, verifier } = await grants.signIn();
  const response = await tokenRequest(issuer, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
    ...credentials(client),
  });
  expect(response.status).toBe(200);
  const tokens = await readJson(response);
  return {
    grantId: (tokens.refresh_token as string).split('.')[0] as string,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
  };
}

const credentials = (client: Json) => ({
  client_id: client.client_id as string,
  ...(client.client_secret !== undefined && { client_secret: client.client_secret as string }),
});

const refresh = (client: Json, connection: Connection) =>
  tokenRequest(issuer, {
    grant_type: 'refresh_token',
    refresh_token: connection.refreshToken,
    ...credentials(client),
  });

/** Refreshes, and keeps the successor: the grant is alive. */
async function expectAlive(client: Json, connection: Connection) {
  const response = await refresh(client, connection);
  expect(response.status).toBe(200);
  connection.refreshToken = (await readJson(response)).refresh_token;
}

async function introspect(token: string) {
  const response = await fetch(`${issuer}/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, ...credentials(agentX) }),
  });
  expect(response.status).toBe(200);
  return readJson(response);
}

/** A browser signed in at the account page as `user`: the page it lands on. */
async function accountPage(user: string): Promise<{ browser: Browser; page: Page }> {
  const browser = new Browser();
  const page = await browser.signInUntil(`${issuer}/account`, { user, stopAt: NO_CLIENT }, (p) =>
    p.response.url.startsWith(`${issuer}/account`),
  );
  return { browser, page };
}

/** The grant ids of the page's revoke forms. */
const listedGrants = (text: string) =>
  [...text.matchAll(/<input type="hidden" name="grant" value="([^"]+)">/g)].map((m) => m[1]);

/** The page's CSRF token (the same in every form of one session). */
const csrfOf = (text: string) =>
  text.match(/<input type="hidden" name="csrf" value="([^"]+)">/)?.[1] as string;

const postRevoke = (browser: Browser, form: Record<string, string>, headers = {}) =>
  browser.request(`${issuer}/account`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: new URL(issuer).origin,
      'sec-fetch-site': 'same-origin',
      ...headers,
    },
    body: new URLSearchParams(form).toString(),
  });

let alice: { x1: Connection; x2: Connection; y: Connection };
let bob: { x: Connection };

beforeAll(async () => {
  server = await startInteractiveServer({}, { DCR_DEV_USERS: 'alice,bob' });
  issuer = server.app.issuer;
  const register = async (metadata: Json) => {
    const response = await jsonPost(`${issuer}/register`, {
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      ...metadata,
    });
    expect(response.status).toBe(201);
    return readJson(response);
  };
  agentX = await register({
    client_name: 'Agent <X> & "friends"',
    token_endpoint_auth_method: 'client_secret_post',
  });
  agentY = await register({ client_name: 'Agent Y', token_endpoint_auth_method: 'none' });
  alice = {
    x1: await connect(agentX, 'alice'),
    x2: await connect(agentX, 'alice'),
    y: await connect(agentY, 'alice'),
  };
  bob = { x: await connect(agentX, 'bob') };
});

afterAll(() => server.close());

describe('the connected-apps page', () => {
  it('sends a browser that is not signed in to the sign-in of /authorize', async () => {
    const response = await new Browser().request(`${issuer}/account`);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(
      new RegExp(`^${server.signsInAt.replace(/[.?]/g, '\\$&')}`),
    );
  });

  it('lists exactly the signed-in user’s grants, each with a Revoke form', async () => {
    const { page } = await accountPage('alice');
    expect(page.response.url).toBe(`${issuer}/account`);
    expect(page.text).toContain('<title>Connected apps</title>');
    expect(listedGrants(page.text).sort()).toEqual(
      [alice.x1.grantId, alice.x2.grantId, alice.y.grantId].sort(),
    );
    expect(page.text).not.toContain(bob.x.grantId);
    // The client's name as it chose it, escaped, and marked as its own claim.
    expect(page.text).toContain('Agent &lt;X&gt; &amp; &quot;friends&quot;');
    expect(page.text).toContain('not verified');
    expect(page.text).toContain('<code>127.0.0.1:8765</code>');
    expect(page.text.match(/>Revoke<\/button>/g)).toHaveLength(3);

    const other = await accountPage('bob');
    expect(listedGrants(other.page.text)).toEqual([bob.x.grantId]);
  });

  it('refuses a revocation without the session’s CSRF token, or from another site', async () => {
    const { browser, page } = await accountPage('alice');
    const bobs = await accountPage('bob');
    for (const [form, headers] of [
      [{ grant: alice.x1.grantId }, {}],
      [{ grant: alice.x1.grantId, csrf: 'x'.repeat(43) }, {}],
      // Bob's valid token is no token for Alice's session.
      [{ grant: alice.x1.grantId, csrf: csrfOf(bobs.page.text) }, {}],
      [{ grant: alice.x1.grantId, csrf: csrfOf(page.text) }, { 'sec-fetch-site': 'cross-site' }],
      [{ grant: alice.x1.grantId, csrf: csrfOf(page.text) }, { origin: 'https://evil.example' }],
    ] as const) {
      const response = await postRevoke(browser, form, headers);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('Connected apps');
    }
    const json = await postRevoke(
      browser,
      { grant: alice.x1.grantId },
      { accept: 'application/json' },
    );
    expect(json.status).toBe(403);
    expect(await readJson(json)).toMatchObject({ error: 'invalid_request' });
    await expectAlive(agentX, alice.x1);
  });

  it('revokes nothing for a browser that is not signed in, nor another user’s grant', async () => {
    const { page } = await accountPage('alice');
    const signedOut = await postRevoke(new Browser(), {
      grant: alice.x1.grantId,
      csrf: csrfOf(page.text),
    });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toBe(`${issuer}/account`);

    const { browser, page: again } = await accountPage('alice');
    const others = await postRevoke(browser, { grant: bob.x.grantId, csrf: csrfOf(again.text) });
    expect(others.status).toBe(404);
    await expectAlive(agentX, alice.x1);
    await expectAlive(agentX, bob.x);
  });

  it('a Revoke kills exactly one grant: its refresh tokens and its access tokens', async () => {
    expect(await introspect(alice.x1.accessToken)).toMatchObject({ active: true });
    const { browser, page } = await accountPage('alice');
    const response = await postRevoke(browser, {
      grant: alice.x1.grantId,
      csrf: csrfOf(page.text),
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`${issuer}/account?revoked`);

    const refused = await refresh(agentX, alice.x1);
    expect(refused.status).toBe(400);
    expect(await readJson(refused)).toMatchObject({ error: 'invalid_grant' });
    expect(await introspect(alice.x1.accessToken)).toEqual({ active: false });
    // The same client's other grant of the same user, and everything else, carry on.
    expect(await introspect(alice.x2.accessToken)).toMatchObject({ active: true });
    await expectAlive(agentX, alice.x2);
    await expectAlive(agentY, alice.y);
    await expectAlive(agentX, bob.x);

    const after = await browser.page(await browser.follow(`${issuer}/account?revoked`, NO_CLIENT));
    expect(after.text).toContain('Access revoked');
    expect(listedGrants(after.text).sort()).toEqual([alice.x2.grantId, alice.y.grantId].sort());
    // Revoked already: nothing left to revoke.
    const again = await postRevoke(browser, { grant: alice.x1.grantId, csrf: csrfOf(after.text) });
    expect(again.status).toBe(404);
  });
});
