/**
 * Characters that must never reach a person's screen from client-supplied text: controls
 * (\p{Cc}: C0, DEL and C1 — terminal escapes such as CSI and OSC 52 clipboard writes, hidden
 * rows) and Unicode bidirectional controls (marks, embeddings, overrides, isolates) that reorder
 * what is shown.
 */
const UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

/** Whether the text holds no control or bidirectional-control character. */
export const isDisplaySafe = (text: string): boolean => !UNSAFE.test(text);

/**
 * The text with every unsafe character shown as a visible `\uXXXX` escape: readable in a table,
 * and still valid JSON inside a JSON string (every such character is in the BMP).
 */
export const displaySafe = (text: string): string =>
  text.replace(UNSAFE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A lone surrogate: half a UTF-16 pair, which no UTF-8 (and so no identifier) can hold. */
export const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
