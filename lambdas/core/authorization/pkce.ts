import { hash } from 'node:crypto';

/** RFC 7636 §4.1: 43 to 128 unreserved characters (`.` and `~` included). */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** An S256 challenge: the base64url SHA-256 of a verifier, 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export const isCodeVerifier = (value: string): boolean => VERIFIER.test(value);
export const isS256Challenge = (value: string): boolean => S256_CHALLENGE.test(value);

/** RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
export const s256 = (verifier: string): string =>
  hash('sha256', Buffer.from(verifier, 'ascii'), 'base64url');
