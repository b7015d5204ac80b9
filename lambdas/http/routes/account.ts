import { accountSignIn } from '../../core/authorization/authorization-flow.js';
import type { UpstreamLogin } from '../../core/authorization/ports.js';
import type { Clock } from '../../core/clock.js';
import { notFound, temporarilyUnavailable } from '../../core/errors.js';
import { endpointUrl, PATHS } from '../../core/paths.js';
import type { ConnectedApps } from '../../core/tokens/connected-apps.js';
import { connectedAppsErrorPage, connectedAppsPage } from '../account-pages.js';
import type { BrowserState } from '../browser-state.js';
import { seeOther } from '../responses.js';
import type { Route, RouteContext } from '../router.js';
import { beginSignIn } from './authorize.js';

/** The purpose the revoke forms' CSRF tokens are bound to (with the user's session). */
const CSRF_PURPOSE = 'account';

/**
 * The user's connected apps at `/account`: `GET` lists their grants, signing in first (the same
 * sign-in as `/authorize`, which then returns here); `POST` revokes the one grant its form
 * names, for the signed-in user only, then shows the page again.
 */
export function accountRoutes(
  apps: ConnectedApps,
  browser: BrowserState,
  upstream: UpstreamLogin | undefined,
  clock: Clock,
  defaultAudience: string | undefined,
): Route[] {
  const accountUrl = (issuer: string) => endpointUrl(issuer, PATHS.account);

  const show = async ({ request, issuer }: RouteContext) => {
    const session = await browser.session(request, issuer);
    if (session === undefined) {
      const cookies = browser.crowdedTransactions(request, issuer);
      return beginSignIn(browser, upstream, issuer, accountSignIn(clock), cookies, (fault) =>
        temporarilyUnavailable('the identity provider could not be reached; try again', { fault }),
      );
    }
    return connectedAppsPage({
      user: session,
      apps: await apps.list(session.sub),
      defaultResource: defaultAudience ?? issuer,
      action: accountUrl(issuer),
      csrf: await browser.sessionCsrf(CSRF_PURPOSE, session),
      revoked: new URLSearchParams(request.query).has('revoked'),
    });
  };

  const revoke = async ({ request, issuer }: RouteContext) => {
    const checked = await browser.checkSessionForm(request, issuer, CSRF_PURPOSE);
    // Signed out meanwhile: nothing is revoked; the page signs in again.
    if (checked === undefined) return seeOther(accountUrl(issuer));
    const grantId = checked.form.get('grant') ?? '';
    if (!(await apps.revoke(checked.session.sub, grantId))) {
      throw notFound(
        'There is no such connection among yours: it may have been revoked or expired already.',
      );
    }
    return seeOther(`${accountUrl(issuer)}?revoked`);
  };

  const errorPage = connectedAppsErrorPage;
  return [
    { method: 'GET', path: PATHS.account, page: true, errorPage, handle: show },
    { method: 'POST', path: PATHS.account, page: true, errorPage, handle: revoke },
  ];
}
