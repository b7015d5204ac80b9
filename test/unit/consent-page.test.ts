import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import { MemoryGrantStore } from '../../lambdas/adapters/memory/memory-grant-store.js';
import {
  AuthorizationFlow,
  type ConsentView,
  type FlowSettings,
  type Transaction,
} from '../../lambdas/core/authorization/authorization-flow.js';
import { ClientLifecycle, METADATA_DOCUMENT } from '../../lambdas/core/clients/client-lifecycle.js';
import type { ClientRecord } from '../../lambdas/core/clients/ports.js';
import type { GrantRecord, GrantStore } from '../../lambdas/core/tokens/ports.js';
import { consentPage } from '../../lambdas/http/pages.js';
import { FakeClock, NO_EXPIRY } from '../support/fakes.js';

const ISSUER = 'https://auth.example.com';
const RESOURCE = 'https://mcp.example.com/mcp';
const OTHER_RESOURCE = 'https://other.example.com/api';
const REDIRECT = 'http://127.0.0.1:8765/callback';
const DOCUMENT = 'https://app.example.net/oauth/client.json';
const NOW = 1_800_000_000;
const DAY = 86_400;

const record = (clientId: string, extra: Partial<ClientRecord> = {}): ClientRecord => ({
  clientId,
  metadata: {
    client_name: 'Agent',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    scope: 'read write admin',
  },
  clientIdIssuedAt: NOW - 180,
  clientSecretExpiresAt: 0,
  registrationTokenHash: 'h',
  version: 1,
  registrationMethod: 'open',
  ...extra,
});

const SETTINGS: FlowSettings = {
  resources: new Set([RESOURCE, OTHER_RESOURCE]),
  refreshTokenIdleLifetimeSeconds: 7 * DAY,
  refreshTokenLifetimeSeconds: 30 * DAY,
  serviceName: 'Example Corp',
  serviceLogo: {},
  scopeDescriptions: new Map([
    ['read', 'Read your files'],
    ['write', 'Change <your> files & folders'],
  ]),
};

function world(settings: FlowSettings = SETTINGS) {
  const clock = new FakeClock(NOW);
  const repository = new MemoryClientRepository();
  const grants: GrantStore = new MemoryGrantStore();
  const documents = {
    resolve: async (url: string) => ({
      client: record(url, { registrationMethod: METADATA_DOCUMENT, clientIdIssuedAt: NOW }),
    }),
  };
  const flow = new AuthorizationFlow(
    new ClientLifecycle(repository, clock, NO_EXPIRY, documents),
    grants,
    settings,
  );
  const transaction = (
    clientId: string,
    scope: string,
    { resources = [RESOURCE], sub = 'alice', forceConsent = false } = {},
  ): Transaction => ({
    id: 'tx0000000000000000000A',
    request: {
      clientId,
      redirectUri: REDIRECT,
      codeChallenge: 'c',
      resources,
      scope,
      forceLogin: false,
      noPrompt: false,
      ...(forceConsent && { forceConsent }),
    },
    user: { sub, authTime: NOW },
    expiresAt: NOW + 600,
  });
  const grant = (overrides: Partial<GrantRecord> = {}): GrantRecord => ({
    grantId: `grant${Math.random().toString(36).slice(2, 12)}`,
    clientId: 'client-1',
    sub: 'alice',
    scope: 'read',
    resources: [RESOURCE],
    authTime: NOW - DAY,
    createdAt: NOW - DAY,
    absoluteExpiresAt: NOW + 29 * DAY,
    lastUsedAt: NOW - DAY,
    generation: 1,
    currentHash: 'x',
    previousHashes: [],
    ...overrides,
  });
  /** A grant as the flow makes it: filed under its user at consent, created at the exchange. */
  const granted = async (record: GrantRecord, expiresAt = NOW + DAY) => {
    const { sub, grantId, clientId, createdAt } = record;
    await grants.recordUserGrant(
      { sub, grantId, clientId, redirectUri: REDIRECT, createdAt },
      record.absoluteExpiresAt,
    );
    await grants.createGrant(record, expiresAt);
  };
  return { clock, repository, grants, flow, transaction, grant, granted };
}

const names = (view: ConsentView) => ({
  asked: view.scopes.map((s) => s.scope),
  already: view.alreadyAllowed.map((s) => s.scope),
});

const FORM = { transactionId: 'tx0000000000000000000A', csrf: 'csrf-token' };
const render = (view: ConsentView) => consentPage(view, `${ISSUER}/consent`, FORM).body ?? '';

describe('the consent page', () => {
  let w: ReturnType<typeof world>;
  beforeEach(() => {
    w = world();
  });

  it('names the operator and its logo (served here), never the client’s logo_uri', async () => {
    await w.repository.create(
      record('client-1', {
        metadata: { ...record('x').metadata, logo_uri: 'https://logos.example/evil.png' },
      }),
    );
    const page = render(await w.flow.consent(w.transaction('client-1', 'read'), ISSUER));
    expect(page).toContain(
      '<p class="brand"><img src="https://auth.example.com/service-logo" alt="" width="32" height="32"><span>Example Corp</span></p>',
    );
    expect(page).toContain('<title>Allow access? · Example Corp</title>');
    expect(page).not.toContain('logos.example');
    expect(page.match(/<img/g)).toHaveLength(1);
  });

  it('falls back to the issuer’s host, without a logo, when none is configured', async () => {
    const bare = world({
      resources: SETTINGS.resources,
      refreshTokenIdleLifetimeSeconds: DAY,
      refreshTokenLifetimeSeconds: DAY,
    });
    await bare.repository.create(record('client-1'));
    const page = render(await bare.flow.consent(bare.transaction('client-1', 'read'), ISSUER));
    expect(page).toContain('<p class="brand"><span>auth.example.com</span></p>');
    expect(page).not.toContain('<img');
    // Without descriptions, scopes are shown by name.
    expect(page).toContain('<ul class="scopes"><li><code>read</code></li></ul>');
  });

  it('makes the answer’s destination its strongest line', async () => {
    await w.repository.create(record('client-1'));
    const page = render(await w.flow.consent(w.transaction('client-1', 'read'), ISSUER));
    expect(page).toContain(
      '<p class="destination"><span>Answer sent to</span> <strong>127.0.0.1:8765</strong></p>',
    );
    // Before the permissions and the buttons, as GitHub and Google put the app's destination.
    expect(page.indexOf('Answer sent to')).toBeLessThan(page.indexOf('It asks for'));
  });

  it('describes scopes in the operator’s words, escaped, with the scope’s name beside', async () => {
    await w.repository.create(record('client-1'));
    const page = render(
      await w.flow.consent(w.transaction('client-1', 'read write admin'), ISSUER),
    );
    expect(page).toContain(
      '<ul class="scopes"><li><strong>Read your files</strong> <code class="muted">read</code></li><li><strong>Change &lt;your&gt; files &amp; folders</strong> <code class="muted">write</code></li><li><code>admin</code></li></ul>',
    );
  });

  it('says how an open registration came to be: minutes ago, by anyone', async () => {
    await w.repository.create(record('client-1'));
    const page = render(await w.flow.consent(w.transaction('client-1', 'read'), ISSUER));
    expect(page).toContain(
      'Registered <time datetime="2027-01-15T07:57:00Z" title="2027-01-15 07:57:00 UTC">3 minutes ago</time> by itself: <strong>anyone could have registered it</strong>',
    );
  });

  it('names who vouched: a software statement’s issuer, the operator’s token, a certificate', async () => {
    await w.repository.create(
      record('stated', {
        registrationMethod: 'software_statement',
        statementIssuer: 'https://vendor.example.org',
        clientIdIssuedAt: NOW - 2 * DAY - 5,
      }),
    );
    await w.repository.create(
      record('invited', {
        registrationMethod: 'initial_access_token',
        initialAccessTokenId: 'iat-1',
        clientIdIssuedAt: NOW - 3600,
      }),
    );
    await w.repository.create(record('certified', { registrationMethod: 'mtls' }));
    const page = async (id: string) =>
      render(await w.flow.consent(w.transaction(id, 'read'), ISSUER));
    expect(await page('stated')).toMatch(
      /2 days ago<\/time>, vouched for by <strong>https:\/\/vendor\.example\.org<\/strong> \(a software publisher Example Corp trusts\)/,
    );
    expect(await page('invited')).toMatch(
      /1 hour ago<\/time>, vouched for by the operator of Example Corp/,
    );
    expect(await page('certified')).toMatch(/vouched for by a client certificate Example Corp/);
    for (const id of ['stated', 'invited', 'certified']) {
      expect(await page(id)).not.toContain('anyone could have registered');
    }
  });

  it('says a metadata document client is identified by its document’s host', async () => {
    const page = render(await w.flow.consent(w.transaction(DOCUMENT, 'read'), ISSUER));
    expect(page).toContain(
      'Identified by its metadata document at <strong>app.example.net</strong>',
    );
    expect(page).not.toContain('Registered');
  });

  it('tucks the application id away in a details element, after the buttons', async () => {
    await w.repository.create(record('client-1'));
    const page = render(await w.flow.consent(w.transaction('client-1', 'read'), ISSUER));
    expect(page).toMatch(
      /<details><summary>Application details<\/summary>\n<dl><dt>Application id<\/dt><dd><code>client-1<\/code><\/dd><\/dl>\n<\/details>/,
    );
    expect(page.indexOf('<details>')).toBeGreaterThan(page.indexOf('value="deny"'));
  });

  it('escapes a hostile client name, client id, statement issuer and resource', async () => {
    const hostile = `<script>alert(1)</script>"'&`;
    await w.repository.create(
      record('client-1', {
        metadata: { ...record('x').metadata, client_name: hostile },
        registrationMethod: 'software_statement',
        statementIssuer: hostile,
      }),
    );
    const view = await w.flow.consent(w.transaction('client-1', 'read'), ISSUER);
    const page = render({ ...view, clientId: hostile, resources: [hostile], user: hostile });
    expect(page).not.toContain('<script>');
    expect(page).not.toContain(`"'&`);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
    expect(page.match(/&lt;script&gt;/g)?.length).toBe(5);
  });
});

describe('step-up consent', () => {
  let w: ReturnType<typeof world>;
  beforeEach(async () => {
    w = world();
    await w.repository.create(record('client-1'));
  });

  it('asks only for the scopes not yet granted, and lists the granted ones apart', async () => {
    await w.granted(w.grant({ scope: 'read' }));
    const view = await w.flow.consent(w.transaction('client-1', 'read write'), ISSUER);
    expect(names(view)).toEqual({ asked: ['write'], already: ['read'] });
    const page = render(view);
    expect(page).toContain('<h2>New permissions it asks for</h2>');
    expect(page).toContain(
      '<p class="muted">Already allowed: Read your files <code>read</code></p>',
    );
    expect(page).toContain(
      '<ul class="scopes"><li><strong>Change &lt;your&gt; files &amp; folders</strong> <code class="muted">write</code></li></ul>',
    );
  });

  it('adds up the scopes of every live grant of the user, client and resource', async () => {
    await w.granted(w.grant({ scope: 'read' }));
    await w.granted(w.grant({ scope: 'write', resources: [RESOURCE, OTHER_RESOURCE] }));
    const view = await w.flow.consent(w.transaction('client-1', 'read write admin'), ISSUER);
    expect(names(view)).toEqual({ asked: ['admin'], already: ['read', 'write'] });
  });

  it('still shows the page when nothing is new (never a silent approval)', async () => {
    await w.granted(w.grant({ scope: 'read write' }));
    const view = await w.flow.consent(w.transaction('client-1', 'read'), ISSUER);
    expect(names(view)).toEqual({ asked: [], already: ['read'] });
    expect(render(view)).toContain('Nothing new: only what you already allowed.');
  });

  it('asks for everything on prompt=consent', async () => {
    await w.granted(w.grant({ scope: 'read' }));
    const view = await w.flow.consent(
      w.transaction('client-1', 'read write', { forceConsent: true }),
      ISSUER,
    );
    expect(names(view)).toEqual({ asked: ['read', 'write'], already: [] });
    expect(render(view)).toContain('<h2>It asks for</h2>');
    expect(render(view)).not.toContain('Already allowed');
  });

  it('counts no grant that is revoked, expired (absolute or idle), another user’s, client’s or resource’s', async () => {
    const revoked = w.grant({ scope: 'read' });
    await w.granted(revoked);
    await w.grants.revokeGrant(revoked.grantId, NOW - 10, NOW + 600);
    await w.granted(w.grant({ absoluteExpiresAt: NOW }), NOW);
    await w.granted(w.grant({ lastUsedAt: NOW - 8 * DAY }), NOW);
    await w.granted(w.grant({ sub: 'bob' }));
    await w.granted(w.grant({ clientId: 'client-2' }));
    await w.granted(w.grant({ resources: [OTHER_RESOURCE] }));
    // Made without a resource: counts only for requests without one.
    await w.granted(w.grant({ resources: [], scope: 'write' }));
    const view = await w.flow.consent(w.transaction('client-1', 'read write'), ISSUER);
    expect(names(view)).toEqual({ asked: ['read', 'write'], already: [] });
    const defaultAudience = await w.flow.consent(
      w.transaction('client-1', 'read write', { resources: [] }),
      ISSUER,
    );
    expect(names(defaultAudience)).toEqual({ asked: ['read'], already: ['write'] });
  });
});
