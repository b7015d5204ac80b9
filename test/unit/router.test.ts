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
});
