import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../cli/admin-client.js';
import type { LocalApp } from '../../local/app.js';
import { type DocumentServer, startDocumentServer } from '../support/cimd-server.js';
import {
  type Json,
  jsonPost,
  operatorAdmin,
  operatorCli,
  readJson,
  startTestServer,
} from '../support/server.js';

/**
 * Software statements (RFC 7591 §2.3) and the software_id kill switch over HTTP, on the local
 * server and the synthesized stack: one issuer's keys inline, another's at a jwks_uri served
 * over https on 127.0.0.1 (a trusted test origin).
 */
const STACK = process.env.DCR_TEST_TARGET === 'stack';
const ADMIN_TOKEN = 'local-admin-token-0123456789-abcdefghijklmnop';
const INLINE = 'https://inline-issuer.example';
const REMOTE = 'remote-issuer';
/** The statement type this server requires (README). */
const TYP = 'software-statement+jwt';

let app: LocalApp;
let admin: AdminClient;
let docs: DocumentServer;
let inlineKey: CryptoKey;
let remoteKey: CryptoKey;

const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  const inline = await generateKeyPair('ES256', { extractable: true });
  const remote = await generateKeyPair('RS256', { extractable: true });
  inlineKey = inline.privateKey;
  remoteKey = remote.privateKey;
  const inlineJwk: JWK = { ...(await exportJWK(inline.publicKey)), kid: 'inline' };
  const remoteJwk: JWK = { ...(await exportJWK(remote.publicKey)), kid: 'remote' };
  docs = await startDocumentServer();
  docs.serve('/jwks.json', { keys: [remoteJwk] });
  app = await startTestServer({
    DCR_ADMIN_TOKEN: ADMIN_TOKEN,
    DCR_AUDIT_LOG: 'off',
    DCR_TRUSTED_FETCH_ORIGINS: docs.origin,
    DCR_SOFTWARE_STATEMENT_ISSUERS: JSON.stringify({
      [INLINE]: { jwks: { keys: [inlineJwk] } },
      [REMOTE]: { jwks_uri: docs.url('/jwks.json'), algorithms: ['RS256'] },
    }),
  });
  admin = operatorAdmin(app.issuer, ADMIN_TOKEN);
});
afterAll(async () => {
  await app?.close();
  await docs?.close();
});

const sign = (claims: Record<string, unknown>, via: 'inline' | 'remote' = 'inline') =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: via === 'inline' ? 'ES256' : 'RS256', kid: via, typ: TYP })
    .setIssuer(via === 'inline' ? INLINE : REMOTE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(via === 'inline' ? inlineKey : remoteKey);

const register = async (body: Record<string, unknown>) => {
  const response = await jsonPost(`${app.issuer}/register`, body);
  return { status: response.status, body: await readJson(response) };
};

describe('registration with a software statement', () => {
  it('registers with an inline-key statement: its claims win over the body and are returned', async () => {
    const statement = await sign({
      software_id: `agent-${Date.now()}`,
      client_name: 'Signed Agent',
      grant_types: ['client_credentials'],
    });
    const { status, body } = await register({
      software_statement: statement,
      client_name: 'Body Agent',
      software_id: 'spoofed',
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({ client_name: 'Signed Agent', software_statement: statement });
    expect(body.software_id).toMatch(/^agent-/);
    expect(body.grant_types).toEqual(['client_credentials']);
    const listed = await admin.request('GET', `/clients?software_id=${body.software_id}`);
    expect((listed.body as Json).clients[0].registration_method).toBe('software_statement');
  });

  it('registers with a statement whose issuer publishes its keys at a jwks_uri (fetched once)', async () => {
    for (let i = 0; i < 2; i++) {
      const { status, body } = await register({
        software_statement: await sign(
          { software_id: 'remote-app', grant_types: ['client_credentials'] },
          'remote',
        ),
      });
      expect(status).toBe(201);
      expect(body.software_id).toBe('remote-app');
    }
    expect(docs.hits('/jwks.json')).toBe(1);
  });

  it('an RFC 7592 update keeps what the statement asserted: changing it is refused, the rest may change', async () => {
    const asserted = {
      software_id: `vetted-${Date.now()}`,
      client_name: 'Vetted App',
      redirect_uris: ['https://vetted.example/cb'],
    };
    const { status, body: client } = await register({
      software_statement: await sign(asserted),
      contacts: ['ops@vetted.example'],
    });
    expect(status).toBe(201);
    const put = (changes: Record<string, unknown>) =>
      fetch(client.registration_client_uri, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${client.registration_access_token}`,
        },
        body: JSON.stringify({ client_id: client.client_id, ...asserted, ...changes }),
      });
    for (const [member, value] of [
      ['redirect_uris', ['https://attacker.example/cb']],
      ['software_id', 'other-software'],
      ['client_name', 'Someone Else'],
      ['redirect_uris', undefined],
    ] as const) {
      const response = await put({ [member]: value });
      expect(response.status).toBe(400);
      const error = await readJson(response);
      expect(error.error).toBe('invalid_client_metadata');
      expect(error.error_description).toContain(member);
    }
    const allowed = await put({ contacts: ['security@vetted.example'] });
    expect(allowed.status).toBe(200);
    expect(await readJson(allowed)).toMatchObject({
      ...asserted,
      contacts: ['security@vetted.example'],
    });
  });

  it('unknown members, however deeply nested, are ignored and never stored: in the body and in the statement', async () => {
    let nested: unknown = 'x';
    for (let i = 0; i < 1000; i++) nested = { a: nested };
    const { status, body } = await register({
      software_statement: await sign({
        software_id: `deep-${Date.now()}`,
        grant_types: ['client_credentials'],
        x_vendor_extension: nested,
      }),
      x_body_extension: nested,
    });
    expect(status).toBe(201);
    expect(body).not.toHaveProperty('x_vendor_extension');
    expect(body).not.toHaveProperty('x_body_extension');
    const read = await fetch(body.registration_client_uri, {
      headers: { authorization: `Bearer ${body.registration_access_token}` },
    });
    expect(JSON.stringify(await readJson(read))).not.toContain('"a":');
  });

  it('refuses bad statements with RFC 7591 errors, never a 5xx', async () => {
    const cases: [unknown, string][] = [
      ['not-a-jwt', 'invalid_software_statement'],
      [await sign({ client_name: 'no software id' }), 'invalid_software_statement'],
      [
        await new SignJWT({ software_id: 'x' })
          .setProtectedHeader({ alg: 'ES256', typ: TYP })
          .setIssuer(INLINE)
          .setIssuedAt(now() - 3600)
          .setExpirationTime(now() - 600)
          .sign(inlineKey),
        'invalid_software_statement',
      ],
      [
        await new SignJWT({ software_id: 'x' })
          .setProtectedHeader({ alg: 'ES256', typ: TYP })
          .setIssuer('https://untrusted.example')
          .sign(inlineKey),
        'unapproved_software_statement',
      ],
      [
        // Signed by the remote issuer's key but claiming the inline issuer.
        await new SignJWT({ software_id: 'x' })
          .setProtectedHeader({ alg: 'RS256', kid: 'inline', typ: TYP })
          .setIssuer(INLINE)
          .sign(remoteKey),
        'invalid_software_statement',
      ],
    ];
    // A JWT of a trusted issuer is no statement without the statement type, or without exp.
    const claims = { software_id: 'x', grant_types: ['client_credentials'] };
    cases.push(
      [
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: 'inline', typ: 'JWT' })
          .setIssuer(INLINE)
          .setExpirationTime('5m')
          .sign(inlineKey),
        'invalid_software_statement',
      ],
      [
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: 'inline', typ: TYP })
          .setIssuer(INLINE)
          .sign(inlineKey),
        'invalid_software_statement',
      ],
    );
    for (const [statement, error] of cases) {
      const { status, body } = await register({
        software_statement: statement,
        grant_types: ['client_credentials'],
      });
      expect({ status, error: body.error }).toEqual({ status: 400, error });
    }
  });
});

describe('software_id kill switch', () => {
  it('blocks registration by statement and by body, unblocks, and deletes the clients with delete_clients', async () => {
    const softwareId = `doomed-${Date.now()}`;
    const first = await register({ software_id: softwareId, grant_types: ['client_credentials'] });
    const second = await register({
      software_statement: await sign({
        software_id: softwareId,
        grant_types: ['client_credentials'],
      }),
    });
    expect([first.status, second.status]).toEqual([201, 201]);

    const blocked = await admin.request('POST', '/blocked-software-ids', {
      software_id: softwareId,
      delete_clients: true,
    });
    expect(blocked.status).toBe(200);
    expect(blocked.body).toMatchObject({
      software_id: softwareId,
      blocked: true,
      clients: { matched: 2, deleted: 2 },
    });
    const gone = await jsonPost(`${app.issuer}/token`, 'grant_type=client_credentials', {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${first.body.client_id}:${first.body.client_secret}`).toString('base64')}`,
    });
    expect(gone.status).toBe(401);

    const byBody = await register({ software_id: softwareId, grant_types: ['client_credentials'] });
    expect({ status: byBody.status, error: byBody.body.error }).toEqual({
      status: 400,
      error: 'invalid_client_metadata',
    });
    const byStatement = await register({
      software_statement: await sign({
        software_id: softwareId,
        grant_types: ['client_credentials'],
      }),
    });
    expect({ status: byStatement.status, error: byStatement.body.error }).toEqual({
      status: 400,
      error: 'unapproved_software_statement',
    });

    const path = `/blocked-software-ids/${encodeURIComponent(softwareId)}`;
    expect((await admin.request('DELETE', path)).status).toBe(204);
    expect((await admin.request('DELETE', path)).status).toBe(404);
    const again = await register({ software_id: softwareId, grant_types: ['client_credentials'] });
    expect(again.status).toBe(201);
  });

  it('dcr-admin block-software --delete-clients and unblock-software', async () => {
    const softwareId = `cli-${Date.now()}`;
    for (let i = 0; i < 3; i++) {
      const { status } = await register({
        software_id: softwareId,
        grant_types: ['client_credentials'],
      });
      expect(status).toBe(201);
    }
    const cli = operatorCli(app.issuer, ADMIN_TOKEN);
    expect(await cli('block-software', softwareId, '--delete-clients')).toEqual({
      code: 0,
      out: `blocked ${softwareId}; deleted 3 client(s)`,
    });
    const refused = await register({
      software_id: softwareId,
      grant_types: ['client_credentials'],
    });
    expect(refused.status).toBe(400);
    expect(await cli('unblock-software', softwareId)).toEqual({
      code: 0,
      out: `unblocked ${softwareId}`,
    });
    expect((await cli('unblock-software', softwareId)).code).toBe(1);
    const allowed = await register({
      software_id: softwareId,
      grant_types: ['client_credentials'],
    });
    expect(allowed.status).toBe(201);
  });

  it('blocks the software_id an initial access token imposes; the refused registration uses nothing of the token', async () => {
    const softwareId = `fleet-${Date.now()}`;
    const created = await admin.request('POST', '/initial-access-tokens', {
      software_id: softwareId,
      max_uses: 5,
    });
    expect(created.status).toBe(201);
    const token = (created.body as Json).initial_access_token as string;
    const withToken = () =>
      jsonPost(
        `${app.issuer}/register`,
        { grant_types: ['client_credentials'] },
        { authorization: `Bearer ${token}` },
      );
    expect((await withToken()).status).toBe(201);
    await admin.request('POST', '/blocked-software-ids', { software_id: softwareId });
    const refused = await withToken();
    expect(refused.status).toBe(400);
    expect(await readJson(refused)).toMatchObject({ error: 'invalid_client_metadata' });
    const listed = await admin.request('GET', '/initial-access-tokens');
    const mine = (listed.body as Json).initial_access_tokens.find(
      (t: Json) => t.id === (created.body as Json).id,
    );
    expect(mine.uses).toBe(1);
  });

  it('an RFC 7592 update cannot rename a client to a blocked software_id', async () => {
    const softwareId = `renamed-${Date.now()}`;
    await admin.request('POST', '/blocked-software-ids', { software_id: softwareId });
    const { body: client } = await register({ grant_types: ['client_credentials'] });
    const response = await fetch(client.registration_client_uri, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${client.registration_access_token}`,
      },
      body: JSON.stringify({
        client_id: client.client_id,
        grant_types: ['client_credentials'],
        software_id: softwareId,
      }),
    });
    expect(response.status).toBe(400);
    expect(await readJson(response)).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it.each([
    ['another case', (id: string) => id.toUpperCase()],
    ['a zero-width character', (id: string) => `${id.slice(0, 3)}\u200b${id.slice(3)}`],
    ['full-width letters (NFKC)', (id: string) => id.replace('a', '\uff41')],
  ])('compares software_ids in a normalised form: %s is the same software', async (_, variant) => {
    const softwareId = `normalised-agent-${Date.now()}`;
    await admin.request('POST', '/blocked-software-ids', { software_id: softwareId });
    const byBody = await register({
      software_id: variant(softwareId),
      grant_types: ['client_credentials'],
    });
    expect({ status: byBody.status, error: byBody.body.error }).toEqual({
      status: 400,
      error: 'invalid_client_metadata',
    });
    const byStatement = await register({
      software_statement: await sign({
        software_id: variant(softwareId),
        grant_types: ['client_credentials'],
      }),
    });
    expect(byStatement.status).toBe(400);
  });

  it('blocking with delete_clients deletes the clients of every look-alike form of the software_id', async () => {
    const softwareId = `look-alike-${Date.now()}`;
    for (const form of [
      softwareId.toUpperCase(),
      `${softwareId.slice(0, 4)}\u200b${softwareId.slice(4)}`,
    ]) {
      expect(
        (await register({ software_id: form, grant_types: ['client_credentials'] })).status,
      ).toBe(201);
    }
    const blocked = await admin.request('POST', '/blocked-software-ids', {
      software_id: softwareId,
      delete_clients: true,
    });
    expect((blocked.body as Json).clients).toMatchObject({ matched: 2, deleted: 2 });
  });

  it('is an admin route: refused without admin credentials', async () => {
    const response = await jsonPost(`${app.issuer}/admin/blocked-software-ids`, {
      software_id: 'anything',
    });
    expect(response.status).toBe(STACK ? 403 : 401);
  });
});
