import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as client from 'openid-client';
import { afterAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import { startEmbeddedStore } from '../../local/embedded-store.js';
import { Browser } from '../support/browser.js';
import { authorizationRequest } from '../support/interactive.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

/**
 * Secrets at rest (THREATS.md K4): after a registration, an initial access token, a user's
 * sign-in, a code exchange and a refresh on the embedded store, no secret any of them handed
 * out is in the table, in any item or attribute: only their hashes are.
 */
const ADMIN_TOKEN = 'local-admin-token-0123456789-abcdefghijklmnop';
const REDIRECT = 'http://127.0.0.1:8765/callback';
const dir = mkdtempSync(join(tmpdir(), 'dcr-at-rest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secrets at rest', () => {
  it('the table holds no secret it handed out, only hashes', async () => {
    const app = await startTestServer({ DCR_DATA_DIR: dir, DCR_ADMIN_TOKEN: ADMIN_TOKEN });
    const secrets: string[] = [];
    try {
      const machine = await readJson(
        await jsonPost(`${app.issuer}/register`, { grant_types: ['client_credentials'] }),
      );
      secrets.push(machine.client_secret, machine.registration_access_token);
      const iat = await readJson(
        await jsonPost(
          `${app.issuer}/admin/initial-access-tokens`,
          {},
          { authorization: `Bearer ${ADMIN_TOKEN}` },
        ),
      );
      secrets.push(iat.initial_access_token, iat.initial_access_token.split('.')[1]);
      const mcp: Json = await readJson(
        await jsonPost(`${app.issuer}/register`, {
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'none',
        }),
      );
      secrets.push(mcp.registration_access_token);
      const config = await client.discovery(
        new URL(app.issuer),
        mcp.client_id,
        undefined,
        client.None(),
        {
          execute: [client.allowInsecureRequests],
        },
      );
      const { url, verifier, state } = await authorizationRequest(config, {
        redirect_uri: REDIRECT,
        scope: 'offline_access',
      });
      const callback = await new Browser().signIn(url, { user: 'alice', stopAt: REDIRECT });
      secrets.push(callback.searchParams.get('code') as string);
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
      secrets.push(tokens.refresh_token as string, refreshed.refresh_token as string);
      secrets.push(tokens.access_token, refreshed.access_token);
    } finally {
      await app.close();
    }
    expect(secrets.every((s) => typeof s === 'string' && s.length >= 40)).toBe(true);

    const store = await startEmbeddedStore('serverless-dcr', join(dir, 'dynamodb'));
    try {
      const { Items = [] } = await documentClient(store.client).send(
        new ScanCommand({ TableName: 'serverless-dcr' }),
      );
      const stored = JSON.stringify(Items);
      // What was written: clients, the token, the code and the refresh family.
      for (const prefix of ['client#', 'iat#', 'code#', 'grant#']) {
        expect(Items.some((item) => String(item.pk).startsWith(prefix))).toBe(true);
      }
      for (const secret of secrets) {
        // A JWT by its signature; every other secret whole, and its secret part.
        const needle = secret.split('.').at(-1) as string;
        expect(stored.includes(needle), `a secret (${needle.length} characters) is stored`).toBe(
          false,
        );
      }
    } finally {
      await store.close();
    }
  });
});
