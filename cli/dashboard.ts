import { randomBytes } from 'node:crypto';
import { systemClock } from '../lambdas/core/clock.js';
import { endpointUrl, PATHS } from '../lambdas/core/paths.js';
import { createRouter } from '../lambdas/http/router.js';
import { type AdminBackend, dashboardRoutes } from '../local/dashboard/routes.js';
import { LocalCookieKey } from '../local/local-cookie-key.js';
import { startLocalServer } from '../local/server.js';

/** How long a dashboard session lasts in `dcr-admin dashboard` (the server's default). */
const SESSION_SECONDS = 8 * 3600;

export interface RunningDashboard {
  /** The URL to open: it signs the browser in once, and the token leaves the address bar. */
  readonly signInUrl: string;
  readonly issuer: string;
  close(): Promise<void>;
}

/**
 * `dcr-admin dashboard`: the dashboard's pages (the very routes the local server serves) on
 * 127.0.0.1, over the admin API `backend` — the deployed one, signed with SigV4. Nothing is
 * exposed on the public API. Other local users and web pages cannot use it: signing in takes a
 * random 256-bit token printed in the URL (or typed as the "Admin token"), exchanged for a
 * SameSite=Strict, HttpOnly session cookie sealed with a key that lives as long as the process;
 * every request must name `127.0.0.1:<port>` as its Host (a DNS-rebinding page names its own),
 * and every form post must come from that origin with the session's CSRF token.
 */
export async function startDashboard(
  backend: AdminBackend,
  options: { port: number },
): Promise<RunningDashboard> {
  const token = randomBytes(32).toString('base64url');
  let host = '';
  const router = createRouter(
    dashboardRoutes({
      backend,
      cookieKey: LocalCookieKey.create(),
      clock: systemClock,
      sessionLifetimeSeconds: SESSION_SECONDS,
      signInToken: token,
      closedHint: '',
      urlSignIn: true,
      host: () => host,
    }),
  );
  const server = await startLocalServer(router, { port: options.port });
  host = new URL(server.issuer).host;
  return {
    issuer: server.issuer,
    signInUrl: `${endpointUrl(server.issuer, PATHS.dashboardSignIn)}?token=${token}`,
    close: () => server.close(),
  };
}
