import type { Clock } from '../lambdas/core/clock.js';
import { accessDenied } from '../lambdas/core/errors.js';
import { endpointUrl, PATHS } from '../lambdas/core/paths.js';
import type { BrowserState, TransactionForm } from '../lambdas/http/browser-state.js';
import { html, page } from '../lambdas/http/html.js';
import type { HttpResponse } from '../lambdas/http/message.js';
import { prefersJson } from '../lambdas/http/request.js';
import type { Route, RouteContext } from '../lambdas/http/router.js';

/**
 * The development login: a user name from a configured list, no password. For one machine
 * only: this module is never imported by a Lambda handler (the local app alone adds its routes),
 * and configuration refuses it inside Lambda.
 */

/** A development user's `sub`. */
const devSubject = (name: string) => `dev:${name}`;

function loginPage(
  issuer: string,
  users: readonly string[],
  form: TransactionForm & { username?: string; problem?: string },
): HttpResponse {
  return page({
    title: 'Development login',
    status: form.problem ? 400 : 200,
    ...(form.problem && { error: 'access_denied' }),
    body: html`<p class="warning" role="note"><strong>Development login.</strong> For local
testing only: there is no password, and anyone who can reach this server can sign in as these
users.</p>
<h1>Sign in</h1>
<form method="post" action="${endpointUrl(issuer, PATHS.login)}">
<input type="hidden" name="tx" value="${form.transactionId}">
<input type="hidden" name="csrf" value="${form.csrf}">
<label for="username">User name</label>
<input type="text" id="username" name="username" value="${form.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required aria-describedby="users${form.problem ? ' problem' : ''}"${form.problem ? html` aria-invalid="true"` : ''}>
${form.problem && html`<p class="error" id="problem" role="alert">${form.problem}</p>`}
<p class="muted" id="users">Users: ${users.join(', ')}</p>
<div class="actions">
<button type="submit">Sign in</button>
</div>
</form>`,
  });
}

export function devLoginRoutes(
  browser: BrowserState,
  clock: Clock,
  users: readonly string[],
): Route[] {
  const known = new Set(users);

  /** The login form of the sign-in the browser is in. */
  async function showLogin({ request, issuer }: RouteContext) {
    const transaction = await browser.transactionOf(request, issuer, 'tx');
    return loginPage(issuer, users, await browser.formFields('login', transaction));
  }

  /** A known development user is signed in; anyone else sees the form again, saying why. */
  async function login({ request, issuer }: RouteContext) {
    const { form, transaction } = await browser.checkForm(request, issuer, 'login');
    const username = (form.get('username') ?? '').trim();
    if (!known.has(username)) {
      const problem = `There is no development user “${username.slice(0, 64)}”.`;
      // A caller that prefers JSON gets the RFC error body, as from every page route.
      if (prefersJson(request)) throw accessDenied(problem);
      return loginPage(issuer, users, {
        ...(await browser.formFields('login', transaction)),
        username: username.slice(0, 64),
        problem,
      });
    }
    return browser.signedIn(issuer, transaction, {
      sub: devSubject(username),
      authTime: clock.now(),
    });
  }

  return [
    { method: 'GET', path: PATHS.login, page: true, handle: showLogin },
    { method: 'POST', path: PATHS.login, page: true, handle: login },
  ];
}
