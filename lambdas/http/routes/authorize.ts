import {
  type AuthorizationFlow,
  authorizationOf,
  redirectOf,
  type Transaction,
  transactionGone,
  upstreamFailure,
} from '../../core/authorization/authorization-flow.js';
import type { UpstreamLogin } from '../../core/authorization/ports.js';
import {
  type DependencyFault,
  forbidden,
  invalidRequest,
  OAuthError,
  redirectedError,
  temporarilyUnavailable,
} from '../../core/errors.js';
import { endpointUrl, PATHS } from '../../core/paths.js';
import type { ServiceLogo } from '../../settings.js';
import { type BrowserState, consentUrl } from '../browser-state.js';
import type { HttpResponse } from '../message.js';
import { consentPage } from '../pages.js';
import { authorizationResponse, seeOther } from '../responses.js';
import type { Route, RouteContext } from '../router.js';

/**
 * The operator's logo, for the consent page's `<img>` (CSP `img-src 'self'`): its type told by
 * its content at start, never sniffed, and sandboxed should anyone open an SVG one directly.
 */
const logoResponse = (logo: ServiceLogo): HttpResponse => ({
  status: 200,
  headers: {
    'content-type': logo.contentType,
    'cache-control': 'public, max-age=3600',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    'cross-origin-resource-policy': 'same-origin',
  },
  body: logo.body.toString('base64'),
  base64: true,
});

/**
 * Sends the browser to sign in for `transaction` (an authorization request's, or the account
 * page's): the development login (PATHS.login, served by the local app only), or the upstream
 * OpenID Provider with the transaction id as `state`; `unavailable` makes the error thrown when
 * the upstream cannot be reached (its adapter's 503 names the dependency, the router logs it).
 */
export async function beginSignIn(
  browser: BrowserState,
  upstream: UpstreamLogin | undefined,
  issuer: string,
  transaction: Transaction,
  cookies: string[],
  unavailable: (fault: DependencyFault | undefined) => OAuthError,
): Promise<HttpResponse> {
  if (upstream === undefined) {
    cookies.push(await browser.transactionCookie(issuer, transaction));
    return seeOther(`${endpointUrl(issuer, PATHS.login)}?tx=${transaction.id}`, cookies);
  }
  let begun: Awaited<ReturnType<UpstreamLogin['begin']>>;
  try {
    begun = await upstream.begin({
      state: transaction.id,
      redirectUri: endpointUrl(issuer, PATHS.callback),
      forceLogin: transaction.request?.forceLogin ?? false,
    });
  } catch (error) {
    // Anything but the adapter's 503 is unexpected, and named too.
    throw unavailable(
      error instanceof OAuthError
        ? error.fault
        : { service: 'sign-in', errorName: (error as Error)?.name ?? 'unknown' },
    );
  }
  cookies.push(await browser.transactionCookie(issuer, { ...transaction, pending: begun.pending }));
  return seeOther(begun.location, cookies);
}

/**
 * The authorization endpoint and the pages it leads through: `GET /authorize` validates and
 * sends the browser to sign in (the upstream OpenID Provider, else the development login at
 * PATHS.login, served by the local app only) or, with a session, straight to consent;
 * `GET /callback` is the upstream's return; `GET|POST /consent` asks the user and answers the
 * client with a code or `access_denied`.
 */
export function authorizeRoutes(
  flow: AuthorizationFlow,
  browser: BrowserState,
  upstream: UpstreamLogin | undefined,
  logo?: ServiceLogo,
): Route[] {
  /** Validates the request, then on to sign-in (upstream or development login) or consent. */
  const startAuthorization = async ({ request, issuer }: RouteContext) => {
    const session = await browser.session(request, issuer);
    const { transaction, login } = await flow.start(request.query, session);
    const cookies = browser.crowdedTransactions(request, issuer);
    if (!login) {
      cookies.push(await browser.transactionCookie(issuer, transaction));
      return seeOther(consentUrl(issuer, transaction.id), cookies);
    }
    return beginSignIn(browser, upstream, issuer, transaction, cookies, (fault) =>
      redirectedError(
        'temporarily_unavailable',
        'the identity provider could not be reached; try again',
        { redirect: redirectOf(authorizationOf(transaction)), fault },
      ),
    );
  };

  /** The consent page for the transaction the browser is in. */
  const askConsent = async ({ request, issuer }: RouteContext) => {
    const transaction = await browser.transactionOf(request, issuer, 'tx');
    const view = await flow.consent(transaction, issuer);
    const fields = await browser.formFields('consent', transaction);
    return consentPage(view, endpointUrl(issuer, PATHS.consent), fields);
  };

  /** The user's decision: a code for the client, or `access_denied`. */
  const decide = async ({ request, issuer }: RouteContext) => {
    const { form, transaction } = await browser.checkForm(request, issuer, 'consent');
    const decision = form.get('decision');
    const ended = { cookies: [browser.endTransaction(issuer, transaction.id)] };
    const authorization = authorizationOf(transaction);
    const redirect = redirectOf(authorization);
    if (decision === 'deny') {
      return authorizationResponse(
        redirect,
        { error: 'access_denied', error_description: 'the user denied access' },
        issuer,
        { ...ended, clientId: authorization.clientId, error: 'access_denied' },
      );
    }
    if (decision !== 'allow') throw invalidRequest('decision must be allow or deny');
    const { code, clientId } = await flow.allow(transaction);
    return authorizationResponse(redirect, { code }, issuer, { ...ended, clientId });
  };

  return [
    { method: 'GET', path: PATHS.authorize, page: true, handle: startAuthorization },
    ...(logo === undefined
      ? []
      : [{ method: 'GET' as const, path: PATHS.serviceLogo, handle: () => logoResponse(logo) }]),
    { method: 'GET', path: PATHS.consent, page: true, handle: askConsent },
    { method: 'POST', path: PATHS.consent, page: true, handle: decide },
    ...(upstream === undefined ? [] : [upstreamCallbackRoute(browser, upstream)]),
  ];
}

/** `GET /callback`, served only with an upstream OpenID Provider. */
function upstreamCallbackRoute(browser: BrowserState, upstream: UpstreamLogin): Route {
  /** The upstream's return: signed in (on to consent), or its failure back to the client. */
  const finishUpstreamLogin = async ({ request, issuer }: RouteContext) => {
    const transaction = await browser.transactionOf(request, issuer, 'state');
    if (transaction.pending === undefined) throw transactionGone();
    const redirectUri = endpointUrl(issuer, PATHS.callback);
    // Built from the configured issuer, never the Host header: the upstream checks it.
    const outcome = await upstream.finish(new URL(`${redirectUri}?${request.query}`), {
      ...transaction.pending,
      state: transaction.id,
      redirectUri,
    });
    if ('identity' in outcome) return browser.signedIn(issuer, transaction, outcome.identity);
    // The adapter has logged the failure (one line, with its reason).
    const { error, description } = upstreamFailure(outcome);
    // A sign-in for the account page has no client to answer: a page says it.
    if (transaction.request === undefined) {
      throw error === 'access_denied'
        ? forbidden(description)
        : temporarilyUnavailable(description);
    }
    return authorizationResponse(
      redirectOf(transaction.request),
      { error, error_description: description },
      issuer,
      {
        cookies: [browser.endTransaction(issuer, transaction.id)],
        clientId: transaction.request.clientId,
        error,
      },
    );
  };

  return { method: 'GET', path: PATHS.callback, page: true, handle: finishUpstreamLogin };
}
