import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '../../lambdas/http/message.js';
import { createRouter, type Route } from '../../lambdas/http/router.js';

const ISSUER = 'https://as.example.test';
const echo: Route = {
  method: 'GET',
  path: '/things/:id',
  handle: ({ params }) => ({
    status: 200,
    headers: {},
    body: encodeURIComponent(params.id as string),
  }),
};
const get = (path: string): HttpRequest => ({ method: 'GET', path, query: '', headers: {} });

describe('the router', () => {
  it('decodes a path parameter, and matches none that is not well-formed text (found by fuzzing)', async () => {
    const router = createRouter([echo]);
    expect((await router(get('/things/caf%C3%A9'), ISSUER)).body).toBe('caf%C3%A9');
    // A lone surrogate has no UTF-8 spelling: a raw one in the path names nothing (never a 500).
    for (const path of ['/things/\uDC00\uD800', '/things/a\uD800', '/things/%ED%A0%80']) {
      const response = await router(get(path), ISSUER);
      expect(response.status).toBe(404);
      expect(JSON.parse(response.body ?? '')).toMatchObject({ error: 'not_found' });
    }
  });

  it('picks the first listed path that matches, with or without parameters, and answers its methods', async () => {
    const named = (method: Route['method'], path: string, name: string): Route => ({
      method,
      path,
      cors: path === '/things/:id',
      handle: ({ params }) => ({
        status: 200,
        headers: {},
        body: `${name}${params.id === undefined ? '' : ` ${params.id}`}`,
      }),
    });
    const router = createRouter([
      echo,
      named('GET', '/things/new', 'listed after /things/:id'),
      named('PUT', '/things/:id', 'put'),
      named('POST', '/other', 'other'),
      named('GET', '/other/:id', 'another'),
    ]);
    // The parameter path comes first: it answers /things/new.
    expect((await router(get('/things/new'), ISSUER)).body).toBe('new');
    expect((await router(get('/other/x'), ISSUER)).body).toBe('another x');
    const post = await router({ ...get('/other'), method: 'POST' }, ISSUER);
    expect(post.body).toBe('other');
    const wrongMethod = await router(get('/other'), ISSUER);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    const preflight = await router({ ...get('/things/1'), method: 'OPTIONS' }, ISSUER);
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, PUT, OPTIONS');
    for (const path of ['/other/', '/other/x/y', '/nothing', '/things']) {
      expect((await router(get(path), ISSUER)).status, path).toBe(404);
    }
  });
});
