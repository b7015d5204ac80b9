import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbClientRepository } from '../../lambdas/adapters/dynamodb/dynamodb-client-repository.js';
import { DynamoDbExpirySweeper } from '../../lambdas/adapters/dynamodb/dynamodb-expiry-sweeper.js';
import { DynamoDbGrantStore } from '../../lambdas/adapters/dynamodb/dynamodb-grant-store.js';
import { DynamoDbTokenStore } from '../../lambdas/adapters/dynamodb/dynamodb-token-store.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import { accessOf, DEPLOYED_FUNCTIONS, descriptorOf } from '../../lambdas/functions.js';

import { startEmbeddedStore } from '../../local/embedded-store.js';
import { FakeClock } from '../support/fakes.js';
import {
  allows,
  keyPolicyAllows,
  leadingKeys,
  type PolicyStatement,
} from '../support/iam-policy.js';
import {
  httpUpstream,
  keyPolicies,
  readTemplate,
  serveOnLoopback,
  stackFunctions,
  startIamGate,
} from '../support/synthesized-stack.js';

/** Each function of a deployment in the kms signing mode, and the access its descriptor gives it. */
const ACCESS = Object.fromEntries(
  DEPLOYED_FUNCTIONS.filter((name) => !descriptorOf(name).wrappedOnly).map((name) => [
    name,
    accessOf(name, false),
  ]),
);
const TABLE = 'dcr-gate';
const PATTERNS = [
  'client#*',
  'revoked#*',
  'assertion#*',
  'cleanup#*',
  'code#*',
  'grant#*',
] as const;

describe('IAM conditions as the gate evaluates them', () => {
  const owned = (actions: string[]): PolicyStatement => ({
    Effect: 'Allow',
    Action: actions,
    Condition: {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['client#*'] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    },
  });
  const batch = (...pks: string[]) =>
    leadingKeys('BatchGetItem', {
      RequestItems: { [TABLE]: { Keys: pks.map((pk) => ({ pk: { S: pk }, sk: { S: 'x' } })) } },
    });

  it('reads the partition key of every item a request names', () => {
    expect(leadingKeys('PutItem', { Item: { pk: { S: 'client#a' } } })).toEqual(['client#a']);
    expect(leadingKeys('UpdateItem', { Key: { pk: { S: 'client#a' } } })).toEqual(['client#a']);
    expect(batch('client#a', 'revoked#b')).toEqual(['client#a', 'revoked#b']);
    expect(leadingKeys('Scan', {})).toBeUndefined();
  });

  it('allows a batch only when every key is owned', () => {
    const statements = [owned(['dynamodb:BatchGetItem'])];
    expect(
      allows(statements, 'dynamodb:BatchGetItem', {
        'dynamodb:LeadingKeys': batch('client#a', 'client#b'),
      }),
    ).toBe(true);
    expect(
      allows(statements, 'dynamodb:BatchGetItem', {
        'dynamodb:LeadingKeys': batch('client#a', 'revoked#b'),
      }),
    ).toBe(false);
  });

  it('matches the pattern against the whole key', () => {
    const statements = [owned(['dynamodb:GetItem'])];
    expect(allows(statements, 'dynamodb:GetItem', { 'dynamodb:LeadingKeys': ['xclient#a'] })).toBe(
      false,
    );
    expect(allows(statements, 'dynamodb:GetItem', { 'dynamodb:LeadingKeys': ['client#'] })).toBe(
      true,
    );
  });

  it('lets a request with no key through ForAllValues alone, as IAM does, but not past Null: false', () => {
    const { Null: _, ...forAllOnly } = owned(['dynamodb:Scan']).Condition ?? {};
    const loose: PolicyStatement = {
      Effect: 'Allow',
      Action: 'dynamodb:Scan',
      Condition: forAllOnly,
    };
    expect(allows([loose], 'dynamodb:Scan', { 'dynamodb:LeadingKeys': undefined })).toBe(true);
    expect(allows([owned(['dynamodb:Scan'])], 'dynamodb:Scan', {})).toBe(false);
  });

  it('refuses to guess a condition operator it does not know', () => {
    const statement: PolicyStatement = {
      Effect: 'Allow',
      Action: 'dynamodb:GetItem',
      Condition: { StringNotEquals: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' } },
    };
    expect(() => allows([statement], 'dynamodb:GetItem', {})).toThrow('StringNotEquals');
  });

  it('holds StringEquals on a KMS encryption context only when the request carries that value', () => {
    const statement: PolicyStatement = {
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: 'arn:aws:kms:local:000000000000:key/Wrapping',
      Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'signing' } },
    };
    const key = 'arn:aws:kms:local:000000000000:key/Wrapping';
    const context = (purpose?: string) =>
      purpose === undefined ? {} : { 'kms:EncryptionContext:purpose': [purpose] };
    expect(allows([statement], 'kms:Decrypt', context('signing'), key)).toBe(true);
    expect(allows([statement], 'kms:Decrypt', context('other'), key)).toBe(false);
    expect(allows([statement], 'kms:Decrypt', context(), key)).toBe(false);
    // The key is a resource: another key is not granted.
    expect(allows([statement], 'kms:Decrypt', context('signing'), `${key}2`)).toBe(false);
  });
});

describe('the gate in front of the store, with the template policies', () => {
  const { cdkOut } = inject('stack');
  const functions = stackFunctions(cdkOut);
  const logicalId = (name: string) => {
    const prefix = `Function${name.replace(/-/g, '')}Function`;
    const fn = functions.find((f) => f.logicalId.startsWith(prefix));
    if (!fn) throw new Error(`no function ${name}`);
    return fn.logicalId;
  };
  const policies = new Map(functions.map((fn) => [fn.logicalId, fn.statements]));
  const denied: string[] = [];
  let forwarded = 0;
  let upstream: ReturnType<typeof createServer>;
  let gate: Awaited<ReturnType<typeof startIamGate>>;

  beforeAll(async () => {
    // A stand-in store that answers every call it is let through with an empty success.
    upstream = createServer((req, res) => {
      req.resume().on('end', () => {
        forwarded += 1;
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    gate = await startIamGate(
      httpUpstream(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`),
      'dynamodb',
      policies,
      denied,
    );
  });
  afterAll(async () => {
    await gate.close();
    upstream.close();
  });

  /** The document client the functions use, signing as the named function's role. */
  const signedAs = (name: string, endpoint = gate.endpoint) =>
    documentClient(
      new DynamoDBClient({
        endpoint,
        region: 'local',
        credentials: { accessKeyId: logicalId(name), secretAccessKey: 'local' },
        maxAttempts: 1,
      }),
    );
  const outcome = (call: Promise<unknown>) =>
    call.then(
      () => 'allowed',
      (error: Error) => error.name,
    );

  it('refuses the register function a write outside client#, and says so', async () => {
    const register = signedAs('register');
    const before = forwarded;
    const call = register.send(
      new PutCommand({ TableName: TABLE, Item: { pk: 'revoked#x', sk: 'revoked' } }),
    );
    await expect(call).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(forwarded).toBe(before);
    expect(denied).toContain(`${logicalId('register')} dynamodb:PutItem on revoked#x`);
    await register.send(
      new PutCommand({ TableName: TABLE, Item: { pk: 'client#x', sk: 'client' } }),
    );
    expect(forwarded).toBe(before + 1);
  });

  it('lets every function touch exactly the items its ACCESS row names', async () => {
    type Client = ReturnType<typeof signedAs>;
    const calls = {
      GetItem: (c: Client, pk: string) =>
        c.send(new GetCommand({ TableName: TABLE, Key: { pk, sk: 'x' } })),
      PutItem: (c: Client, pk: string) =>
        c.send(new PutCommand({ TableName: TABLE, Item: { pk, sk: 'x' } })),
      UpdateItem: (c: Client, pk: string) =>
        c.send(
          new UpdateCommand({
            TableName: TABLE,
            Key: { pk, sk: 'x' },
            UpdateExpression: 'SET a = :a',
            ExpressionAttributeValues: { ':a': 1 },
          }),
        ),
      DeleteItem: (c: Client, pk: string) =>
        c.send(new DeleteCommand({ TableName: TABLE, Key: { pk, sk: 'x' } })),
    };
    for (const [name, access] of Object.entries(ACCESS)) {
      const client = signedAs(name);
      for (const action of ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'] as const) {
        for (const pattern of PATTERNS) {
          const owned = access.items?.[action]?.includes(pattern) ?? false;
          expect(
            await outcome(calls[action](client, pattern.replace('*', '1'))),
            `${name} ${action} ${pattern}`,
          ).toBe(owned ? 'allowed' : 'AccessDeniedException');
        }
      }
    }
  });

  it('lets only the admin function scan, and only cleanup and admin query the expiry index', async () => {
    for (const name of Object.keys(ACCESS)) {
      const scan = await outcome(signedAs(name).send(new ScanCommand({ TableName: TABLE })));
      expect(scan, name).toBe(name === 'admin' ? 'allowed' : 'AccessDeniedException');
      const query = await outcome(
        signedAs(name).send(
          new QueryCommand({
            TableName: TABLE,
            IndexName: 'expiry',
            KeyConditionExpression: 'expiryDay = :d',
            ExpressionAttributeValues: { ':d': 'expiry#2026-11-27' },
          }),
        ),
      );
      expect(query, name).toBe(
        ['cleanup', 'admin'].includes(name) ? 'allowed' : 'AccessDeniedException',
      );
      // A Query of the table names its partition: the admin function may read the software_id
      // counters' one. (The gate does not tell the table from its index — the template's
      // resources are not resolved here — so admin's and cleanup's index grants let any Query
      // through; cdk/stack checks that the table Query is conditioned on stats#software.) The
      // authorize function may read a user's partition (their index of grants), and no other.
      for (const pk of ['stats#software', 'client#1', 'stats#active', 'user#dev:alice']) {
        const partition = await outcome(
          signedAs(name).send(
            new QueryCommand({
              TableName: TABLE,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': pk },
            }),
          ),
        );
        const allowed =
          ['cleanup', 'admin'].includes(name) || (name === 'authorize' && pk.startsWith('user#'));
        expect(partition, `${name} Query ${pk}`).toBe(
          allowed ? 'allowed' : 'AccessDeniedException',
        );
      }
    }
  });

  it('lets the cleanup sweep, signed as the cleanup function, find and delete every expired kind', async () => {
    const store = await startEmbeddedStore(TABLE);
    const storeServer = await serveOnLoopback(store.listener);
    const cleanupGate = await startIamGate(
      httpUpstream(storeServer.endpoint),
      'dynamodb',
      policies,
      denied,
    );
    try {
      const clock = new FakeClock(Date.parse('2026-11-27T12:00:00Z') / 1000);
      const now = clock.now();
      const owner = documentClient(store.client);
      await new DynamoDbClientRepository(owner, TABLE).create({
        clientId: 'expired',
        metadata: {
          grant_types: ['client_credentials'],
          response_types: [],
          token_endpoint_auth_method: 'client_secret_basic',
          application_type: 'web',
        },
        clientIdIssuedAt: now - 7200,
        clientSecretExpiresAt: 0,
        registrationTokenHash: 'h',
        activeUntil: now - 60,
        version: 1,
      });
      const tokens = new DynamoDbTokenStore(owner, TABLE);
      await tokens.revoke('jti', now - 60);
      await tokens.useAssertionId('expired', 'assertion', now - 60);
      await new DynamoDbGrantStore(owner, TABLE).recordUserGrant(
        {
          sub: 'dev:alice',
          grantId: 'g'.repeat(22),
          clientId: 'expired',
          redirectUri: 'http://127.0.0.1/cb',
          createdAt: now - 7200,
        },
        now - 60,
      );
      const before = denied.length;
      const sweep = await new DynamoDbExpirySweeper(
        signedAs('cleanup', cleanupGate.endpoint),
        TABLE,
        clock,
      ).sweep();
      expect(denied.slice(before)).toEqual([]);
      expect(sweep.deleted).toEqual({ client: 1, revoked: 1, assertion: 1, user: 1 });
    } finally {
      await cleanupGate.close();
      await storeServer.close();
      await store.close();
    }
  });
});

describe('key policies as the gate evaluates them', () => {
  const role = { arn: 'arn:aws:iam::000000000000:role/Signer', account: '000000000000' };
  const account = { AWS: 'arn:aws:iam::000000000000:root' };
  const sign = (statement: Partial<PolicyStatement>): PolicyStatement => ({
    Effect: 'Allow',
    Action: 'kms:Sign',
    Resource: '*',
    ...statement,
  });
  const decide = (policy: PolicyStatement[], identity: boolean, caller = role) =>
    keyPolicyAllows(policy, caller, 'kms:Sign', {}, () => identity);

  it('lets a statement naming the role allow by itself', () => {
    expect(decide([sign({ Principal: { AWS: role.arn } })], false)).toBe(true);
  });

  it('delegates to IAM where the key policy trusts the account', () => {
    expect(decide([sign({ Principal: account })], true)).toBe(true);
    expect(decide([sign({ Principal: account })], false)).toBe(false);
  });

  it('refuses what the key policy does not name, whatever IAM allows', () => {
    const administration = sign({ Principal: account, Action: ['kms:DescribeKey'] });
    expect(decide([administration], true)).toBe(false);
    expect(decide([], true)).toBe(false);
  });

  it('holds the account’s trust to one role with aws:PrincipalArn', () => {
    const policy = [
      sign({ Principal: account, Condition: { ArnEquals: { 'aws:PrincipalArn': role.arn } } }),
    ];
    expect(decide(policy, true)).toBe(true);
    expect(decide(policy, true, { ...role, arn: 'arn:aws:iam::000000000000:role/Other' })).toBe(
      false,
    );
  });

  it('lets an explicit Deny win', () => {
    const policy = [
      sign({ Principal: { AWS: role.arn } }),
      sign({ Effect: 'Deny', Principal: '*' }),
    ];
    expect(decide(policy, true)).toBe(false);
  });
});

describe('the KMS gate, with the template key policy', () => {
  const { cdkOut } = inject('stack');
  const template = readTemplate(cdkOut);
  const functions = stackFunctions(cdkOut, template);
  const policies = new Map(functions.map((fn) => [fn.logicalId, fn.statements]));
  const roles = new Map(functions.map((fn) => [fn.logicalId, fn.roleArn]));
  const [[keyArn, keyPolicy]] = [...keyPolicies(template)] as [[string, PolicyStatement[]]];
  const functionId = (name: string) =>
    functions.find((fn) => fn.logicalId.startsWith(`Function${name}Function`))?.logicalId ?? '';
  const tokenId = functionId('token');
  let upstream: ReturnType<typeof createServer>;
  let endpoint: string;

  beforeAll(async () => {
    // A stand-in KMS that answers every call it is let through with an empty success.
    upstream = createServer((req, res) => {
      req.resume().on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterAll(() => upstream.close());

  const sign = new SignCommand({
    KeyId: keyArn,
    Message: Buffer.from('x'),
    MessageType: 'RAW',
    SigningAlgorithm: 'ECDSA_SHA_256',
  });

  /**
   * Sends the command as the caller through a KMS gate with these role policies and this key
   * policy: what the gate answered and what it refused.
   */
  async function through(
    caller: string,
    command: SignCommand | GetPublicKeyCommand,
    keyPolicyStatements: PolicyStatement[],
    rolePolicies = policies,
  ) {
    const denied: string[] = [];
    const gate = await startIamGate(httpUpstream(endpoint), 'kms', rolePolicies, denied, [], {
      policies: new Map([[keyArn, keyPolicyStatements]]),
      roles,
    });
    const kms = new KMSClient({
      endpoint: gate.endpoint,
      region: 'local',
      credentials: { accessKeyId: caller, secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const sent = command instanceof SignCommand ? kms.send(command) : kms.send(command);
    const outcome = await sent.then(
      () => 'allowed',
      (error: Error) => error.name,
    );
    await gate.close();
    return { outcome, denied };
  }

  it('lets the token function sign under the template key policy', async () => {
    expect(await through(tokenId, sign, keyPolicy)).toEqual({ outcome: 'allowed', denied: [] });
  });

  it('refuses the call when the key policy no longer allows it, though the role policy does', async () => {
    expect(allows(policies.get(tokenId) ?? [], 'kms:Sign', {}, keyArn)).toBe(true);
    const withoutSigning = keyPolicy.filter((s) => ![s.Action].flat().includes('kms:Sign'));
    expect(await through(tokenId, sign, withoutSigning)).toEqual({
      outcome: 'AccessDeniedException',
      denied: [`${tokenId} kms:Sign on ${keyArn}`],
    });
  });

  it('refuses a function the key policy does not name, under its account trust', async () => {
    const jwksId = functionId('jwks');
    // The jwks function's role, given kms:Sign in IAM: the key policy still names only token's.
    const generous = new Map(policies).set(jwksId, [
      ...(policies.get(jwksId) ?? []),
      { Effect: 'Allow', Action: 'kms:Sign', Resource: keyArn },
    ]);
    const publicKey = new GetPublicKeyCommand({ KeyId: keyArn });
    expect((await through(jwksId, publicKey, keyPolicy, generous)).outcome).toBe('allowed');
    expect((await through(jwksId, sign, keyPolicy, generous)).outcome).toBe(
      'AccessDeniedException',
    );
  });
});
