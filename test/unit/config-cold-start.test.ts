import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import {
  SERVER_SETTINGS,
  SETTINGS,
  type Setting,
  type SettingName,
} from '../../lambdas/settings.js';
import * as z from '../../lambdas/zod.js';

/** Watches each setting's schema being built, which every parse of the setting asks for. */
function watchParses() {
  const spies = SERVER_SETTINGS.map((name) => [name, vi.spyOn(SETTINGS[name], 'type')] as const);
  return {
    parsed: () =>
      new Set<SettingName>(spies.filter(([, s]) => s.mock.calls.length > 0).map(([n]) => n)),
    timesParsed: (name: SettingName) => spies.find(([n]) => n === name)?.[1].mock.calls.length,
  };
}

afterEach(() => vi.restoreAllMocks());

describe('loading the configuration at a cold start', () => {
  it('parses the settings the environment sets, and a default only once the function reads it', () => {
    const watch = watchParses();
    const config = loadConfig({
      DCR_ISSUER: 'https://id.example.com',
      DCR_ACCESS_TOKEN_LIFETIME_SECONDS: '900',
    });
    const atLoad = watch.parsed();
    expect(atLoad).toContain('issuer');
    expect(atLoad).toContain('accessTokenLifetimeSeconds');
    // A default nothing at start reads stays text, and most settings are never touched.
    expect(atLoad).not.toContain('clientUnusedLifetimeSeconds');
    expect(atLoad.size).toBeLessThan(SERVER_SETTINGS.length / 2);

    expect(config.clientUnusedLifetimeSeconds).toBe(86_400);
    expect(config.clientUnusedLifetimeSeconds).toBe(86_400);
    expect(watch.timesParsed('clientUnusedLifetimeSeconds')).toBe(1);
    expect(config.accessTokenLifetimeSeconds).toBe(900);
  });

  it('can count on every default of the table parsing, since none is parsed before it is read', () => {
    for (const name of SERVER_SETTINGS) {
      const text = (SETTINGS[name] as Setting).default;
      if (text === undefined) continue;
      const result = z.safeParse(SETTINGS[name].type(), text);
      expect(result.success, `${name}: default ${JSON.stringify(text)}`).toBe(true);
    }
  });
});
