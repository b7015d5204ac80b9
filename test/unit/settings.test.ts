import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from 'constructs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { environmentFor, OTHER_VARIABLES, SETTINGS, type Setting } from '../../lambdas/settings.js';
import { readDeployment } from '../../lib/config.js';
import {
  CONFIGURATION_DOC,
  CONSTRUCT_PROPS,
  configurationDoc,
  constructProps,
} from '../../lib/configuration-doc.js';

/** The deployment as cdk.json (or -c) would give it. */
const deployment = (context: Record<string, unknown>) =>
  readDeployment({ tryGetContext: (key: string) => context[key] } as Node);

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the settings table', () => {
  it('is what docs/configuration.md says (regenerate it with npm run docs:config)', () => {
    expect(readFileSync(CONFIGURATION_DOC, 'utf8'), 'docs/configuration.md is stale').toBe(
      configurationDoc(),
    );
  });

  it('is what the construct’s documented props say (regenerate them with npm run docs:config)', () => {
    expect(readFileSync(CONSTRUCT_PROPS, 'utf8'), 'lib/serverless-dcr-props.ts is stale').toBe(
      constructProps(),
    );
  });

  it('declares every variable the server and the stack name', () => {
    const declared = new Set([
      ...Object.values(SETTINGS).map((s: Setting) => s.env),
      ...OTHER_VARIABLES,
    ]);
    const named = new Set<string>();
    for (const dir of ['lambdas', 'local', 'lib']) {
      for (const file of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('.ts')) continue;
        const source = readFileSync(join(root, dir, file), 'utf8');
        // `DCR_TLS_*` names a family, not a variable.
        for (const [name] of source.matchAll(/\bDCR_[A-Z_]*[A-Z](?!_\*)\b/g)) named.add(name);
      }
    }
    expect([...named].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('checks a rule across settings in the server and at synth, each in its own words', () => {
    expect(() =>
      loadConfig({
        DCR_REFRESH_TOKEN_LIFETIME_SECONDS: '3600',
        DCR_REFRESH_TOKEN_IDLE_LIFETIME_SECONDS: '7200',
      }),
    ).toThrow(
      'DCR_REFRESH_TOKEN_IDLE_LIFETIME_SECONDS: must not exceed DCR_REFRESH_TOKEN_LIFETIME_SECONDS',
    );
    expect(() =>
      deployment({
        'dcr:refreshTokenLifetimeSeconds': 3600,
        'dcr:refreshTokenIdleLifetimeSeconds': 7200,
      }),
    ).toThrow(
      'dcr:refreshTokenIdleLifetimeSeconds: must not exceed dcr:refreshTokenLifetimeSeconds',
    );
    expect(() => deployment({ 'dcr:resources': ['https://mcp.example.com/mcp'] })).toThrow(
      'dcr:allowedScopes: required when dcr:resources or dcr:defaultAudience is set',
    );
  });

  it('names every bad key at synth with its rule, not only the first', () => {
    expect(() =>
      deployment({
        'dcr:accessTokenLifetimeSeconds': 5,
        'dcr:tracing': 'maybe',
        'dcr:replicaRegions': ['eu-west-1', 'Mars'],
      }),
    ).toThrow(
      /(?=.*dcr:accessTokenLifetimeSeconds: must be a whole number of seconds from 60 to 86400 \(got "5"\))(?=.*dcr:tracing: must be true or false)(?=.*dcr:replicaRegions: must be AWS region names such as eu-west-1 \(got "Mars"\))/,
    );
  });

  it('refuses at synth what the functions would refuse at cold start', () => {
    // A window past a day: the register function's own parser refuses it.
    expect(() => deployment({ 'dcr:registrationRateLimit': '10/999999' })).toThrow(
      /dcr:registrationRateLimit: /,
    );
    expect(() => deployment({ 'dcr:redirectHosts': 'https://app.example.com' })).toThrow(
      /dcr:redirectHosts: https:\/\/app\.example\.com: must be a host name/,
    );
  });

  it('hands the functions one text whatever form cdk.json or -c gives', () => {
    for (const scopes of [['read', 'write'], 'read,write', 'read write']) {
      expect(deployment({ 'dcr:allowedScopes': scopes }).texts.allowedScopes).toBe('read write');
    }
    for (const off of [false, 'false']) {
      expect(
        deployment({ 'dcr:clientIdMetadataDocuments': off }).texts.clientIdMetadataDocuments,
      ).toBe('off');
    }
    const tiers = { open: { scopes: ['read'] } };
    expect(deployment({ 'dcr:registrationTiers': tiers }).texts.registrationTiers).toBe(
      JSON.stringify(tiers),
    );
    expect(deployment({ 'dcr:accessTokenLifetimeSeconds': 300 }).config).toMatchObject({
      accessTokenLifetimeSeconds: 300,
      tracing: false,
      registrationRateLimit: { limit: 120, windowSeconds: 3600 },
    });
  });

  it('gives a deployed function exactly the settings the table says it receives', () => {
    const values = {
      tableName: 'clients',
      kmsKeyId: 'arn:aws:kms:eu-west-1:111111111111:key/k',
      registrationRateLimit: '10/60',
      sessionLifetimeSeconds: '600',
      port: '3000',
    };
    expect(environmentFor('token', true, values)).toEqual({
      DCR_TABLE_NAME: 'clients',
      DCR_KMS_KEY_ID: values.kmsKeyId,
    });
    expect(environmentFor('register', false, values)).toEqual({
      DCR_TABLE_NAME: 'clients',
      DCR_REGISTRATION_RATE_LIMIT: '10/60',
    });
    expect(environmentFor('authorize', false, values)).toEqual({
      DCR_TABLE_NAME: 'clients',
      DCR_SESSION_LIFETIME_SECONDS: '600',
    });
  });
});
