import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The documentation is split over README.md, docs/ and a few root files, and they point at each
 * other's sections. Every relative link must reach an existing file and, with an #anchor, a
 * heading there, so a moved section or a renamed heading fails here instead of on GitHub; and
 * every source file or test the pages name (`lambdas/core/authorization/pkce.ts`, `e2e/tokens`) must exist.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const PAGES = [
  'README.md',
  'SECURITY.md',
  'CHANGELOG.md',
  'THREATS.md',
  'bench/README.md',
  'examples/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks and inline code spans, where links are links. */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/(`+)[^`]*?\1/g, '');
  });
}

/** GitHub's heading anchor: lower case, punctuation and symbols dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a page's headings get, numbered as GitHub numbers repeats (`x`, `x-1`, …). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading?.[1]) continue;
    const base = slug(heading[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

interface Link {
  readonly page: string;
  readonly line: number;
  readonly target: string;
}

function links(page: string): Link[] {
  const found: Link[] = [];
  prose(readFileSync(join(ROOT, page), 'utf8')).forEach((text, i) => {
    for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1] as string;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …
      found.push({ page, line: i + 1, target });
    }
  });
  return found;
}

/** Why a relative link is broken, or undefined when it reaches its file and heading. */
function broken({ page, target }: Link): string | undefined {
  const [path = '', anchor] = target.split('#', 2);
  const file = path === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), path);
  if (!existsSync(file)) return `${relative(ROOT, file)} does not exist`;
  if (anchor === undefined) return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return 'an anchor on a non-page';
  const known = anchors(readFileSync(file, 'utf8'));
  return known.has(decodeURIComponent(anchor))
    ? undefined
    : `no heading #${anchor} in ${relative(ROOT, file)}`;
}

describe('documentation links', () => {
  it('computes anchors as GitHub does', () => {
    expect(slug('Requirement → test')).toBe('requirement--test');
    expect(slug('Blocking a software_id (kill switch)')).toBe('blocking-a-software_id-kill-switch');
    expect(slug('Software statements (RFC 7591 §2.3)')).toBe('software-statements-rfc-7591-23');
    expect(slug('`dcr-admin`')).toBe('dcr-admin');
    expect(slug("The operator's registry")).toBe('the-operators-registry');
    expect([...anchors('# A\n## A\n```\n# A\n```\n## A')]).toEqual(['a', 'a-1', 'a-2']);
  });

  it('finds a broken file, a broken anchor and ignores code', () => {
    const page = 'README.md';
    expect(broken({ page, line: 1, target: 'docs/no-such-page.md' })).toMatch(/does not exist/);
    expect(broken({ page, line: 1, target: '#no-such-heading' })).toMatch(/no heading/);
    expect(prose('see `[x](nowhere.md)`\n```\n[y](nowhere.md)\n```').join('')).not.toMatch(
      /nowhere/,
    );
  });

  it.each(PAGES)('%s: every relative link reaches a file and heading', (page) => {
    const problems = links(page)
      .map((link) => ({ link, why: broken(link) }))
      .filter((p) => p.why !== undefined)
      .map(({ link, why }) => `${page}:${link.line} (${link.target}): ${why}`);
    expect(problems).toEqual([]);
  });
});

/** Test files as the documentation names them: `e2e/tokens` for test/e2e/tokens.e2e.test.ts. */
const SUITES = 'unit|handlers|integration|interactive|browser|e2e|fuzz|cdk|stack';
const TEST_SUFFIXES = ['', '.ts', '.test.ts', '.e2e.test.ts', '.browser.test.ts'];

/** The repository paths and test names a page quotes in code spans (placeholders skipped). */
function namedPaths(page: string): { name: string; path: string }[] {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const out: { name: string; path: string }[] = [];
  for (const [, name = ''] of text.matchAll(
    /`((?:test|lambdas|local|lib|cli|bench|bin)\/[^`\s<…*]+)`/g,
  )) {
    out.push({ name, path: name });
  }
  for (const [, name = ''] of text.matchAll(new RegExp(`\`((?:${SUITES})/[a-z0-9-]+)\``, 'g'))) {
    out.push({ name, path: `test/${name}` });
  }
  return out;
}

const exists = (path: string) => TEST_SUFFIXES.some((s) => existsSync(join(ROOT, path + s)));

describe('files named in the documentation', () => {
  it('resolves a test name to its file, and misses a file that is not there', () => {
    expect(exists('test/e2e/tokens')).toBe(true);
    expect(exists('test/browser/consent')).toBe(true);
    expect(exists('test/e2e/no-such-test')).toBe(false);
  });

  it.each(PAGES)('%s: every source file and test it names exists', (page) => {
    const missing = namedPaths(page)
      .filter(({ path }) => !exists(path))
      .map(({ name }) => name);
    expect(missing).toEqual([]);
  });
});

describe('the README as a front door', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;

  it('opens with the two commands, and both exist', () => {
    const top = readme.split('\n').slice(0, 8).join('\n');
    expect(top).toContain('npm ci && npm start');
    expect(top).toContain('npm ci && npm test');
    expect(scripts.start).toEqual(expect.any(String));
    expect(scripts.test).toEqual(expect.any(String));
  });

  it('stays short enough to read (at most 250 lines; the reference lives in docs/)', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(251);
  });
});
