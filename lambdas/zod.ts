import { en } from 'zod/locales';
import { config, type core } from 'zod/mini';

// zod/mini, the tree-shakable form of zod: a function's bundle carries only the schema types and
// checks it uses (the full `zod` brings every one, ~60 KB minified). Import this module as a
// namespace (`import * as z from './zod.js'`) so that esbuild can drop what is unused. zod/mini
// has no messages of its own; these are the English ones the full form sets.
config(en());

export * from 'zod/mini';

/** A custom issue raised in a transform (zod/mini's transforms have no `addIssue`). */
export const addIssue = (ctx: core.ParsePayload, message: string, input: unknown = ctx.value) =>
  void ctx.issues.push({ code: 'custom', message, input });
