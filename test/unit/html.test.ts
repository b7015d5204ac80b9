import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Html, html, page } from '../../lambdas/http/html.js';

describe('html templates', () => {
  it('escape every interpolation, in text and in attributes', () => {
    const evil = `"><script>alert('x')</script>&`;
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p>',
    );
  });

  it('keep nested fragments and arrays of them, drop undefined and false', () => {
    const items = ['<a>', 'b'].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${items}</ul>${undefined}${false}${0}`.value).toBe(
      '<ul><li>&lt;a&gt;</li><li>b</li></ul>0',
    );
    expect(html`${new Html('<b>trusted</b>')}`.value).toBe('<b>trusted</b>');
  });

  it('pages allow exactly their own stylesheet by hash, and nothing else', () => {
    const response = page({ title: '<t>', body: html`<p>x</p>` });
    const style = response.body?.match(/<style>([\s\S]*?)<\/style>/)?.[1] ?? '';
    const hash = createHash('sha256').update(style).digest('base64');
    expect(response.headers['content-security-policy']).toBe(
      `default-src 'none'; style-src 'sha256-${hash}'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['cache-control']).toBe('no-store');
    // No referrer to other sites (codes and states stay here); same-origin, so the page's own
    // form posts keep their Origin.
    expect(response.headers['referrer-policy']).toBe('same-origin');
    expect(response.body).toContain('<title>&lt;t&gt;</title>');
    expect(response.body).not.toMatch(/<script|<link|src=/);
  });
});
