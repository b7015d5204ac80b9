import { type Command, wholeNumber } from '../options.js';

/** `dashboard`: the registry dashboard on 127.0.0.1 over this admin API, until Ctrl-C. */
export const run: Command = async ({ values, io, client }) => {
  const port = wholeNumber(values, 'port') ?? 0;
  const { startDashboard } = await import('../dashboard.js');
  const running = await startDashboard(client, { port });
  io.out(`dcr-admin dashboard: open ${running.signInUrl}`);
  io.out('(the link signs this browser in; keep it to yourself). Ctrl-C stops it.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  return 0;
};
