import { afterAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { STACK } from '../support/interactive.js';
import { startTestServer } from '../support/server.js';

/**
 * `GET /` on the issuer (the local server, and the synthesized stack's discovery function): a
 * page for a person, its JSON twin for a program that asks for JSON, never a JSON 404.
 */
const apps: LocalApp[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});
const start = async (env: Record<string, string> = {}) => {
  const app = await startTestServer(env);
  apps.push(app);
  return app;
};

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('the home page, GET /', () => {
  it('answers a browser with a page that says what the server is and links the metadata', async () => {
    const app = await start();
    const response = await fetch(`${app.issuer}/`, { headers: { accept: BROWSER_ACCEPT } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('vary')).toBe('accept');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const text = await response.text();
    expect(text).toContain('Dynamic Client Registration');
    expect(text).toContain(`href="${app.issuer}/.well-known/oauth-authorization-server"`);
    expect(text).not.toContain('<script');
    // No dashboard in AWS, nor locally without an admin token: no link to one.
    expect(text).not.toContain('/dashboard');
  });

  it('answers Accept: application/json with the same in JSON, and the metadata agrees', async () => {
    const app = await start({
      DCR_ALLOWED_SCOPES: 'mcp:tools read',
      DCR_RESOURCES: 'https://mcp.example.com/mcp',
      DCR_SERVICE_DOCUMENTATION: 'https://docs.example.com/integrate',
    });
    const response = await fetch(`${app.issuer}/`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('vary')).toBe('accept');
    const home = (await response.json()) as Record<string, unknown>;
    expect(home).toMatchObject({
      server: 'serverless-dcr',
      issuer: app.issuer,
      authorization_server_metadata: `${app.issuer}/.well-known/oauth-authorization-server`,
      registration_endpoint: `${app.issuer}/register`,
      jwks_uri: `${app.issuer}/.well-known/jwks.json`,
      scopes_supported: ['mcp:tools', 'read'],
      resources: ['https://mcp.example.com/mcp'],
      service_documentation: 'https://docs.example.com/integrate',
    });
    expect(home).not.toHaveProperty('dashboard');
    const metadata = (await (
      await fetch(home.authorization_server_metadata as string)
    ).json()) as Record<string, unknown>;
    expect(metadata.service_documentation).toBe('https://docs.example.com/integrate');
    expect(metadata.registration_endpoint).toBe(home.registration_endpoint);
  });

  it('links the dashboard only where there is one: locally with an admin token, never in AWS', async () => {
    const app = await start({ DCR_ADMIN_TOKEN: 'home-e2e-admin-token-0123456789-abcdefghijkl' });
    const home = (await (
      await fetch(`${app.issuer}/`, { headers: { accept: 'application/json' } })
    ).json()) as Record<string, unknown>;
    const page = await (await fetch(`${app.issuer}/`)).text();
    if (STACK) {
      expect(home).not.toHaveProperty('dashboard');
      expect(page).not.toContain('/dashboard');
    } else {
      expect(home.dashboard).toBe(`${app.issuer}/dashboard`);
      expect(page).toContain(`href="${app.issuer}/dashboard"`);
    }
  });

  it('other paths still get the RFC-shaped JSON 404', async () => {
    const app = await start();
    const response = await fetch(`${app.issuer}/no-such-page`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'not_found' });
  });
});

describe('the metadata and the keys are cacheable', () => {
  for (const path of [
    '/.well-known/oauth-authorization-server',
    '/.well-known/openid-configuration',
    '/.well-known/jwks.json',
  ]) {
    it(`${path}: a strong ETag, and 304 without a body to a client whose copy is current`, async () => {
      const app = await start();
      const first = await fetch(`${app.issuer}${path}`);
      expect(first.status).toBe(200);
      expect(first.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
      const etag = first.headers.get('etag') as string;
      expect(etag).toMatch(/^"[\w-]+"$/);
      const body = await first.text();
      // The same bytes, the same tag: a cache may revalidate against any container.
      const again = await fetch(`${app.issuer}${path}`);
      expect(again.headers.get('etag')).toBe(etag);
      expect(await again.text()).toBe(body);

      for (const current of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const revalidated = await fetch(`${app.issuer}${path}`, {
          headers: { 'if-none-match': current },
        });
        expect(revalidated.status).toBe(304);
        expect(revalidated.headers.get('etag')).toBe(etag);
        expect(revalidated.headers.get('cache-control')).toBe(first.headers.get('cache-control'));
        expect(revalidated.headers.get('access-control-allow-origin')).toBe('*');
        expect(await revalidated.text()).toBe('');
      }
      const stale = await fetch(`${app.issuer}${path}`, {
        headers: { 'if-none-match': '"stale"' },
      });
      expect(stale.status).toBe(200);
      expect(await stale.text()).toBe(body);
    });
  }
});
