/**
 * A scripted browser for end-to-end tests: fetch with a cookie jar (per origin and Path, as
 * RFC 6265 matches them: an upstream oidc-provider scopes one cookie name to each interaction's
 * path, so two sign-ins in flight need it), redirects followed by hand, and forms submitted by
 * their stable markup (`<form action>`, inputs and buttons by name), as a person would.
 */

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
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
  /** Who signs in: a development login name, or the upstream's login (any password). */
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

/** The page a sign-in reached: its response, text and first form. */
export interface Page {
  readonly response: Response;
  readonly text: string;
  readonly form: Form;
}

/** Our consent form: Allow and Deny, `<button name="decision">`. */
export const isConsentForm = (form: Form) => 'decision' in form.buttons;

/** A login form: our development login (`username`), or an upstream oidc-provider's (`login`). */
export const isLoginForm = (form: Form) =>
  'username' in form.fields || form.fields.prompt === 'login';

/**
 * A page whose script posts its form at once (oidc-provider ends the previous user's session
 * that way when another signs in): a browser with JavaScript would, so this one does.
 */
const submitsItself = (page: string) => /document\.forms\[0\]\.submit\(\)/.test(page);

/** RFC 6265 §5.1.4: the default Path is the request path up to its last `/`. */
const defaultPath = (url: URL) => {
  const last = url.pathname.lastIndexOf('/');
  return last <= 0 ? '/' : url.pathname.slice(0, last);
};

/** RFC 6265 §5.1.4 path-match. */
const pathMatches = (requestPath: string, cookiePath: string) =>
  requestPath === cookiePath ||
  (requestPath.startsWith(cookiePath) &&
    (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'));

export class Browser {
  private readonly jar = new Map<string, Map<string, StoredCookie>>();

  /**
   * Cookies the browser holds for an origin (names → values), expired ones dropped; with `path`,
   * only those it would send there.
   */
  cookies(origin: string, path?: string): Map<string, string> {
    const now = Date.now();
    const held = [...(this.jar.get(origin)?.values() ?? [])]
      .filter((c) => c.expires > now && (path === undefined || pathMatches(path, c.path)))
      // Longer paths first (RFC 6265 §5.4); of a shared name only the first, the one servers read.
      .sort((a, b) => b.path.length - a.path.length);
    const cookies = new Map<string, string>();
    for (const { name, value } of held) if (!cookies.has(name)) cookies.set(name, value);
    return cookies;
  }

  private store(url: URL, response: Response) {
    const jar = this.jar.get(url.origin) ?? new Map<string, StoredCookie>();
    this.jar.set(url.origin, jar);
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((p) => p.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const attribute = (key: string) =>
        attributes
          .find((a) => a.toLowerCase().startsWith(`${key}=`))
          ?.slice(key.length + 1)
          .trim();
      const maxAge = attribute('max-age');
      const expiresAt = attribute('expires');
      const expires =
        maxAge !== undefined
          ? Date.now() + Number(maxAge) * 1000
          : expiresAt !== undefined
            ? Date.parse(expiresAt)
            : Number.POSITIVE_INFINITY;
      const pathAttribute = attribute('path');
      const path = pathAttribute?.startsWith('/') ? pathAttribute : defaultPath(url);
      const key = `${name}\u0000${path}`;
      if (expires <= Date.now()) jar.delete(key);
      else jar.set(key, { name, value: pair.slice(at + 1), path, expires });
    }
  }

  /** One request, no redirect followed; cookies sent and stored. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const cookie = [...this.cookies(target.origin, target.pathname)]
      .map(([n, v]) => `${n}=${v}`)
      .join('; ');
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

  /** The page the browser is at: a 200 with a form, or an error naming where it stopped. */
  async page(at: URL | Response): Promise<Page> {
    if (at instanceof URL) throw new Error(`the sign-in left for the client early: ${at.href}`);
    const text = await at.text();
    if (at.status !== 200) throw new Error(`sign-in stopped at a ${at.status} page:\n${text}`);
    return { response: at, text, form: parseForm(text, at.url) };
  }

  /**
   * From the authorization URL (or a page the sign-in reached) to this server's consent page,
   * signing in on the way as a person does: the development login, or an upstream
   * oidc-provider's login and consent. Skips nothing the server does not skip.
   */
  untilConsent(start: string | URL | Page, options: Omit<SignInOptions, 'decision'>) {
    return this.signInUntil(start, options, (page) => isConsentForm(page.form));
  }

  /** From `start`, signing in on the way as a person does, to the first page that is `done`. */
  async signInUntil(
    start: string | URL | Page,
    options: Omit<SignInOptions, 'decision'>,
    done: (page: Page) => boolean,
  ): Promise<Page> {
    const { user = 'alice', stopAt } = options;
    let page =
      typeof start === 'string' || start instanceof URL
        ? await this.page(await this.follow(start, stopAt))
        : start;
    for (let pages = 0; pages < 6; pages++) {
      const { form } = page;
      if (done(page)) return page;
      const response =
        'username' in form.fields
          ? await this.submit(form, { username: user })
          : form.fields.prompt === 'login'
            ? await this.submit(form, { login: user, password: 'any' })
            : form.fields.prompt === 'consent' || submitsItself(page.text)
              ? await this.submit(form)
              : undefined;
      if (response === undefined) throw new Error(`not a sign-in page:\n${page.text}`);
      page = await this.page(await this.afterSubmit(response, form.action, stopAt));
    }
    throw new Error('sign-in did not reach the page');
  }

  /**
   * The whole sign-in a person does: the authorization URL (or a page on the way), the login
   * (if asked), then consent. Returns the client's redirect (with code or error, state and iss).
   */
  async signIn(start: string | URL | Page, options: SignInOptions): Promise<URL> {
    const { decision = 'allow', stopAt } = options;
    const { form } = await this.untilConsent(start, options);
    const done = await this.afterSubmit(await this.submit(form, { decision }), form.action, stopAt);
    if (!(done instanceof URL)) {
      throw new Error(`consent did not answer the client: ${done.status}\n${await done.text()}`);
    }
    return done;
  }
}
