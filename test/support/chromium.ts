import { mkdirSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Where the browser tests put their screenshots (git-ignored). */
export const SHOTS = 'test-results/browser';

/** The widths (desktop, phone) and colour schemes every page a person sees is checked at. */
export const LAYOUTS = [
  [1280, 'light'],
  [1280, 'dark'],
  [390, 'light'],
  [390, 'dark'],
] as const;

/** Debian's Chromium, driven by playwright-core (which downloads no browser). */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
}

/** The page needs no horizontal scrolling at this width. */
export async function fitsWidth(page: Page, width: number) {
  const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
  expect(scrollWidth).toBeLessThanOrEqual(width);
}
