import {
  TRANSACTION_ID,
  type Transaction,
  transactionGone,
  withUser,
} from '../core/authorization/authorization-flow.js';
import type { CookieKeySource, UserIdentity } from '../core/authorization/ports.js';
import type { Clock } from '../core/clock.js';
import { forbiddenRequest, invalidRequest } from '../core/errors.js';
import { endpointUrl, PATHS } from '../core/paths.js';
import type { HttpRequest } from './message.js';
import { readCookies, readForm } from './request.js';
import { seeOther } from './responses.js';
import { CookieSealer } from './sealed-cookies.js';

/** Browsers drop cookies over 4096 bytes silently; refuse instead of losing the sign-in. */
const MAX_COOKIE_BYTES = 4000;
/** Abandoned sign-ins beyond this many are forgotten, so the Cookie header stays small. */
const MAX_TRANSACTIONS = 4;

interface CookieScope {
  readonly prefix: string;
  readonly attributes: string;
}

const scopes = new Map<string, CookieScope>();
/**
 * `__Host-` (Secure, Path=/, no Domain: no sibling host can set or shadow it) when the issuer is
 * https and has no path; otherwise scoped to the issuer's path, Secure when https.
 */
function cookieScope(issuer: string): CookieScope {
  let scope = scopes.get(issuer);
  if (scope === undefined) {
    const url = new URL(issuer);
    const path = url.pathname.replace(/\/$/, '') || '/';
    const secure = url.protocol === 'https:';
    scope = {
      prefix: secure && path === '/' ? '__Host-' : '',
      attributes: `; Path=${path}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`,
    };
    scopes.set(issuer, scope);
  }
  return scope;
}

/** What a page's form carries besides its own fields (`tx`, `csrf`). */
export interface TransactionForm {
  readonly transactionId: string;
  readonly csrf: string;
}

const wrongCsrf = () =>
  forbiddenRequest(
    'This form is not one this server showed you (its CSRF token is missing or wrong).',
  );

/**
 * A form post from this server's own pages, or a 403: not `Sec-Fetch-Site: cross-site`, and an
 * `Origin` equal to the issuer's when the browser sends one (always, with `originRequired`: the
 * dashboard's forms, which every browser that can run them posts with an Origin).
 */
export function refuseForeignForm(
  request: HttpRequest,
  issuer: string,
  { originRequired }: { originRequired: boolean },
): void {
  if (request.headers['sec-fetch-site'] === 'cross-site') {
    throw forbiddenRequest('This form was sent from another site, and is refused.');
  }
  const origin = request.headers.origin;
  if ((origin !== undefined || originRequired) && origin !== new URL(issuer).origin) {
    throw forbiddenRequest('This form was sent from another origin, and is refused.');
  }
}

/**
 * The browser's side of a sign-in, kept in cookies: one session cookie (who is signed in here)
 * and one cookie per authorization request in flight (named by its transaction id, so that two
 * applications can sign in at once), each sealed; and the checks every form post passes.
 */
export class BrowserState {
  constructor(
    private readonly sealer: CookieSealer,
    private readonly clock: Clock,
    private readonly sessionLifetimeSeconds: number,
  ) {}

  private sessionName = (issuer: string) => `${cookieScope(issuer).prefix}dcr_session`;
  private transactionName = (issuer: string, id: string) =>
    `${cookieScope(issuer).prefix}dcr_tx_${id}`;

  private async cookie(issuer: string, name: string, payload: object, exp: number) {
    const value = await this.sealer.seal(name, { v: 1, ...payload }, exp);
    const cookie = `${name}=${value}; Max-Age=${exp - this.clock.now()}${cookieScope(issuer).attributes}`;
    if (cookie.length > MAX_COOKIE_BYTES) {
      throw invalidRequest('the request is too large to be kept');
    }
    return cookie;
  }

  private expired = (issuer: string, name: string) =>
    `${name}=; Max-Age=0${cookieScope(issuer).attributes}`;

  private async open(request: HttpRequest, name: string) {
    const value = readCookies(request).get(name);
    if (value === undefined) return undefined;
    const payload = await this.sealer.open(name, value, this.clock.now());
    return payload?.v === 1 ? payload : undefined;
  }

  /** Who is signed in at this server in this browser, if anyone. */
  async session(request: HttpRequest, issuer: string): Promise<UserIdentity | undefined> {
    const payload = await this.open(request, this.sessionName(issuer));
    if (payload === undefined) return undefined;
    return { sub: payload.sub as string, authTime: payload.authTime as number };
  }

  sessionCookie(issuer: string, user: UserIdentity): Promise<string> {
    const exp = this.clock.now() + this.sessionLifetimeSeconds;
    return this.cookie(
      issuer,
      this.sessionName(issuer),
      { sub: user.sub, authTime: user.authTime },
      exp,
    );
  }

  /** The transaction `id` names, if this browser holds it and it has not expired. */
  private async transaction(request: HttpRequest, issuer: string, id: string | null) {
    if (id === null || !TRANSACTION_ID.test(id)) throw transactionGone();
    const payload = await this.open(request, this.transactionName(issuer, id));
    if (payload === undefined) throw transactionGone();
    const { v: _, exp: __, ...transaction } = payload;
    return transaction as unknown as Transaction;
  }

  /** The transaction a page's query names (`tx`; the upstream's `state` at the callback). */
  transactionOf(request: HttpRequest, issuer: string, parameter: 'tx' | 'state') {
    return this.transaction(request, issuer, new URLSearchParams(request.query).get(parameter));
  }

  /**
   * After a sign-in: the session, and on to consent with the transaction (now with its user),
   * or back to the account page, whose sign-in is then over.
   */
  async signedIn(issuer: string, transaction: Transaction, user: UserIdentity) {
    if (transaction.request === undefined) {
      return seeOther(endpointUrl(issuer, PATHS.account), [
        await this.sessionCookie(issuer, user),
        this.endTransaction(issuer, transaction.id),
      ]);
    }
    const next = withUser(transaction, user);
    return seeOther(consentUrl(issuer, next.id), [
      await this.sessionCookie(issuer, user),
      await this.transactionCookie(issuer, next),
    ]);
  }

  transactionCookie(issuer: string, transaction: Transaction): Promise<string> {
    return this.cookie(
      issuer,
      this.transactionName(issuer, transaction.id),
      transaction,
      transaction.expiresAt,
    );
  }

  /** Deletes a finished transaction's cookie. */
  endTransaction(issuer: string, id: string): string {
    return this.expired(issuer, this.transactionName(issuer, id));
  }

  /**
   * Deletions for the transaction cookies a new one would push past the limit (the oldest by
   * name order is as good as any: they are abandoned sign-ins, and expire anyway).
   */
  crowdedTransactions(request: HttpRequest, issuer: string): string[] {
    const prefix = this.transactionName(issuer, '');
    const names = [...readCookies(request).keys()].filter((name) => name.startsWith(prefix));
    return names
      .slice(0, Math.max(0, names.length - (MAX_TRANSACTIONS - 1)))
      .map((name) => this.expired(issuer, name));
  }

  /** The hidden fields of a form acting on a transaction: its id and CSRF token. */
  async formFields(purpose: string, transaction: Transaction): Promise<TransactionForm> {
    return {
      transactionId: transaction.id,
      csrf: await this.sealer.csrfToken(`${purpose}:${transaction.id}`),
    };
  }

  /** The CSRF token of a form acting for the signed-in user: bound to their session. */
  sessionCsrf(purpose: string, session: UserIdentity): Promise<string> {
    return this.sealer.csrfToken(`${purpose}:${session.authTime}:${session.sub}`);
  }

  /**
   * A form post from this server's own page acting for the signed-in user: as `checkForm`, with
   * the CSRF token of their session. Undefined when no one is signed in (any more).
   */
  async checkSessionForm(
    request: HttpRequest,
    issuer: string,
    purpose: string,
  ): Promise<{ form: URLSearchParams; session: UserIdentity } | undefined> {
    refuseForeignForm(request, issuer, { originRequired: false });
    const form = readForm(request);
    const session = await this.session(request, issuer);
    if (session === undefined) return undefined;
    const expected = `${purpose}:${session.authTime}:${session.sub}`;
    if (!(await this.sealer.csrfMatches(expected, form.get('csrf')))) throw wrongCsrf();
    return { form, session };
  }

  /**
   * A form post from this server's own page, or a 403: not cross-site (`Sec-Fetch-Site`), from
   * the issuer's origin when the browser says (`Origin`), and carrying the CSRF token of the
   * transaction it names. Returns the form and that transaction.
   */
  async checkForm(
    request: HttpRequest,
    issuer: string,
    purpose: string,
  ): Promise<{ form: URLSearchParams; transaction: Transaction }> {
    refuseForeignForm(request, issuer, { originRequired: false });
    const form = readForm(request);
    const transactionId = form.get('tx');
    if (transactionId === null || !TRANSACTION_ID.test(transactionId)) throw transactionGone();
    if (!(await this.sealer.csrfMatches(`${purpose}:${transactionId}`, form.get('csrf')))) {
      throw wrongCsrf();
    }
    return { form, transaction: await this.transaction(request, issuer, transactionId) };
  }
}

export const browserState = (
  cookieKey: CookieKeySource,
  clock: Clock,
  settings: { readonly sessionLifetimeSeconds: number },
) => new BrowserState(new CookieSealer(cookieKey), clock, settings.sessionLifetimeSeconds);

export const consentUrl = (issuer: string, transactionId: string) =>
  `${endpointUrl(issuer, PATHS.consent)}?tx=${transactionId}`;
