/**
 * A scripted browser for end-to-end tests: fetch with a cookie jar (per origin, Path honoured
 * loosely: every cookie of the origin is sent), redirects followed by hand, and forms submitted
 * by their stable markup (`<form action>`, inputs and buttons by name), as a person would.
 */

interface StoredCookie {
  readonly value: string;
  readonly expires: number;
}

export interface Form {
  readonly action: string;
  readonly method: string;
  /** Hidden and text inputs, by name. */
  readonly fields: Record<string, string>;
  /** Submit buttons: name → values offered. */
  readonly buttons: Record<string, string[]>;
}

export interface SignInOptions {
  /** Development login user. */
  readonly user?: string;
  readonly decision?: 'allow' | 'deny';
  /** The client's redirect URI: stop there (nothing listens at it). */
  readonly stopAt: string;
}

const attr = (tag: string, name: string) => {
  const match = tag.match(new RegExp(`\\s${name}="([^"]*)"`));
  return match?.[1] === undefined ? undefined : decodeEntities(match[1]);
};

const decodeEntities = (text: string) =>
  text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

/** The first form of a page. */
export function parseForm(page: string, base: string): Form {
  const open = page.match(/<form\b[^>]*>/);
  if (!open) throw new Error(`no form on the page:\n${page}`);
  const body = page.slice(page.indexOf(open[0]), page.indexOf('</form>'));
  const fields: Record<string, string> = {};
  const buttons: Record<string, string[]> = {};
  for (const [tag] of body.matchAll(/<input\b[^>]*>/g)) {
    const name = attr(tag, 'name');
    if (name !== undefined) fields[name] = attr(tag, 'value') ?? '';
  }
  for (const [tag] of body.matchAll(/<button\b[^>]*>/g)) {
    const name = attr(tag, 'name');
    if (name !== undefined) buttons[name] = [...(buttons[name] ?? []), attr(tag, 'value') ?? ''];
  }
  return {
    action: new URL(attr(open[0], 'action') ?? base, base).href,
    method: (attr(open[0], 'method') ?? 'get').toUpperCase(),
    fields,
    buttons,
  };
}

export class Browser {
  private readonly jar = new Map<string, Map<string, StoredCookie>>();

  /** Cookies the browser holds for an origin (names → values), expired ones dropped. */
  cookies(origin: string): Map<string, string> {
    const now = Date.now();
    const cookies = new Map<string, string>();
    for (const [name, cookie] of this.jar.get(origin) ?? []) {
      if (cookie.expires > now) cookies.set(name, cookie.value);
    }
    return cookies;
  }

  private store(url: URL, response: Response) {
    const jar = this.jar.get(url.origin) ?? new Map<string, StoredCookie>();
    this.jar.set(url.origin, jar);
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((p) => p.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const maxAge = attributes.find((a) => a.toLowerCase().startsWith('max-age='));
      const expires = maxAge
        ? Date.now() + Number(maxAge.slice(8)) * 1000
        : Number.POSITIVE_INFINITY;
      if (expires <= Date.now()) jar.delete(name);
      else jar.set(name, { value: pair.slice(at + 1), expires });
    }
  }

  /** One request, no redirect followed; cookies sent and stored. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const cookie = [...this.cookies(target.origin)].map(([n, v]) => `${n}=${v}`).join('; ');
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    if (!headers.has('accept')) headers.set('accept', 'text/html,*/*;q=0.8');
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.store(target, response);
    return response;
  }

  /** Submits a form as a browser would (same-origin Origin header, a button's name and value). */
  submit(form: Form, values: Record<string, string> = {}): Promise<Response> {
    const origin = new URL(form.action).origin;
    return this.request(form.action, {
      method: form.method,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin,
        'sec-fetch-site': 'same-origin',
      },
      body: new URLSearchParams({ ...form.fields, ...values }).toString(),
    });
  }

  /**
   * Follows redirects from `url` until the client's redirect URI (returned, unfetched) or a page
   * (returned as a Response).
   */
  async follow(url: string | URL, stopAt: string): Promise<URL | Response> {
    let next = new URL(url);
    for (let hops = 0; hops < 10; hops++) {
      if (next.href.startsWith(stopAt)) return next;
      const response = await this.request(next);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) return response;
      next = new URL(location, next);
    }
    throw new Error('too many redirects');
  }

  /** After a form post: its redirect chain, to the client or the next page. */
  async afterSubmit(response: Response, base: string, stopAt: string): Promise<URL | Response> {
    const location = response.headers.get('location');
    if (response.status !== 303 || location === null) return response;
    return this.follow(new URL(location, base), stopAt);
  }

  /**
   * The whole sign-in a person does: the authorization URL, the development login (if asked),
   * then consent. Returns the client's redirect (with code or error, state and iss).
   */
  async signIn(authorizationUrl: string | URL, options: SignInOptions): Promise<URL> {
    const { user = 'alice', decision = 'allow', stopAt } = options;
    let at: URL | Response = await this.follow(authorizationUrl, stopAt);
    for (let pages = 0; pages < 6; pages++) {
      if (at instanceof URL) return at;
      const text = await at.text();
      if (at.status !== 200) throw new Error(`sign-in stopped at a ${at.status} page:\n${text}`);
      const form = parseForm(text, at.url);
      // Ours: the development login (`username`), consent (`decision`); an upstream
      // oidc-provider's development interactions: login (`login`, any password), consent.
      const response =
        'username' in form.fields
          ? await this.submit(form, { username: user })
          : form.fields.prompt === 'login'
            ? await this.submit(form, { login: user, password: 'any' })
            : form.fields.prompt === 'consent'
              ? await this.submit(form)
              : await this.submit(form, { decision });
      at = await this.afterSubmit(response, form.action, stopAt);
    }
    throw new Error('sign-in did not reach the client');
  }
}
