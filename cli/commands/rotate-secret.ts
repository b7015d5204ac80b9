import { type Command, check, required, wholeNumber } from '../options.js';
import { date, printJson } from '../output.js';

/** `rotate-secret <client_id>`: a new secret, shown once; `--grace` keeps the old one working. */
export const run: Command = async (context) => {
  const id = required(context, 0, 'a client_id', 'rotate-secret');
  const grace = wholeNumber(context.values, 'grace') ?? 0;
  const { body } = check(
    await context.client.request('POST', `/clients/${encodeURIComponent(id)}/rotate-secret`, {
      grace_period_seconds: grace,
    }),
  );
  if (context.json) printJson(context.io, body);
  else {
    context.io.out(`client_secret ${body.client_secret}`);
    context.io.out(
      body.previous_secret_valid_until
        ? `the previous secret works until ${date(body.previous_secret_valid_until)}`
        : 'the previous secret no longer works',
    );
  }
  return 0;
};
