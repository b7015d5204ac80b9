import { conflict } from '../core/errors.js';

/** The version a replace expected is no longer the stored one: another update won the race. */
export const concurrentUpdate = () =>
  conflict('the registration was changed by a concurrent request; read it again and retry');
