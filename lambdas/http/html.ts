import { createHash } from 'node:crypto';
import type { HttpResponse } from './message.js';

/**
 * Server-rendered pages: one tagged template that escapes every interpolation unless it is
 * already Html, one stylesheet (allowed by its hash), and the headers every page carries. No
 * external assets, no script; pages work without JavaScript and by keyboard.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

type Interpolation = Html | string | number | undefined | false | readonly Interpolation[];

const render = (value: Interpolation): string => {
  if (value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
};

/** `html\`<p>${text}</p>\``: text is escaped; nested `html` fragments and arrays of them are not. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1b1f;--bg:#fff;--muted:#55575f;--line:#d0d3da;--accent:#0b57d0;--warn-bg:#fff4e5;--warn-fg:#6b3d00;--err:#b3261e}
@media (prefers-color-scheme:dark){:root{--fg:#e6e6ea;--bg:#131316;--muted:#b4b6be;--line:#3a3c44;--accent:#8ab4f8;--warn-bg:#3a2a10;--warn-fg:#ffd59a;--err:#f2b8b5}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:32rem;margin:0 auto;padding:2rem 1rem}
h1{font-size:1.4rem;line-height:1.3;margin:0 0 1rem}
p,dl,ul{margin:0 0 1rem}
dt{font-weight:600}dd{margin:0 0 .75rem;overflow-wrap:anywhere}
.muted{color:var(--muted);font-size:.9rem}
.badge{display:inline-block;border:1px solid var(--line);border-radius:.25rem;padding:0 .35rem;font-size:.8rem;color:var(--muted)}
.warning{background:var(--warn-bg);color:var(--warn-fg);border-radius:.375rem;padding:.75rem 1rem}
.error{color:var(--err)}
.error::first-letter{text-transform:uppercase}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text],textarea{width:100%;font:inherit;padding:.5rem .6rem;border:1px solid var(--line);border-radius:.375rem;background:var(--bg);color:var(--fg)}
.actions{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:1.25rem}
button{font:inherit;padding:.55rem 1.2rem;border-radius:.375rem;border:1px solid var(--accent);background:var(--accent);color:var(--bg);cursor:pointer}
button.secondary{background:transparent;color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
code{overflow-wrap:anywhere}
code.id{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;display:inline-block;max-width:14rem;vertical-align:bottom;overflow-wrap:normal}
td.nowrap{white-space:nowrap;overflow-wrap:normal}
td .muted{white-space:nowrap}table.rows td[data-label=Name]{min-width:9rem;overflow-wrap:normal}
main.wide{max-width:72rem}
nav.top{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;border-bottom:1px solid var(--line);padding-bottom:.5rem;margin-bottom:1.25rem}
nav.top form{margin-left:auto}
nav.top a[aria-current=page]{font-weight:700}
a{color:var(--accent)}
h2{font-size:1.15rem;margin:1.75rem 0 .5rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,20rem),1fr));gap:1rem 2rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
th{font-weight:600;overflow-wrap:normal}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,11rem),1fr));gap:.75rem 1rem;align-items:end}
input[type=date],input[type=number],input[type=search],input[type=password],select{width:100%;font:inherit;padding:.45rem .5rem;border:1px solid var(--line);border-radius:.375rem;background:var(--bg);color:var(--fg)}
input[type=search]{font-size:1rem}
button.danger{background:var(--err);border-color:var(--err)}
.notice{border-left:4px solid var(--accent);padding:.5rem .75rem;margin:0 0 1rem}
.secret{font-family:ui-monospace,monospace;font-size:1rem;padding:.5rem;border:1px dashed var(--line);display:block;overflow-wrap:anywhere}
.big{font-size:2rem;font-weight:700;line-height:1.2}
figure{margin:0 0 .5rem}
dl.figures{display:grid;grid-template-columns:1fr auto;gap:.35rem 1rem}dl.figures dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
svg.chart{width:100%;display:block;margin:.25rem 0;overflow:visible}
svg.chart text{fill:var(--muted);font-size:13px}
svg.chart text.value{fill:var(--fg);font-weight:600}
svg.chart line.axis{stroke:var(--muted)}svg.chart line.grid{stroke:var(--line);stroke-dasharray:2 3}
.chart-summary{font-size:.95rem;margin:0 0 .25rem}
.s0{fill:var(--accent)}.s1{fill:var(--err)}.s2{fill:var(--muted)}
.legend{display:flex;gap:1rem;flex-wrap:wrap;font-size:.85rem;margin:0}
.key{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-.1rem}
.key.s0{background:var(--accent)}.key.s1{background:var(--err)}.key.s2{background:var(--muted)}
ul.plain{list-style:none;padding:0;margin:0}ul.plain li+li{margin-top:.2rem}
ul.hosts{list-style:none;padding:0;margin:0 0 .75rem;display:flex;flex-wrap:wrap;gap:.5rem}
ul.hosts li{font-size:1.15rem;font-weight:600;border:1px solid var(--line);border-left:4px solid var(--accent);border-radius:.375rem;padding:.2rem .6rem;overflow-wrap:anywhere;max-width:100%}
fieldset{border:1px solid var(--line);border-radius:.375rem;padding:.5rem .75rem;margin:0 0 1rem}legend{font-weight:600;padding:0 .25rem}
label.choice{font-weight:400;display:flex;gap:.5rem;align-items:baseline;margin:.35rem 0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
textarea{font-family:ui-monospace,monospace;font-size:.85rem;min-height:16rem;resize:vertical}pre.json{font-size:.85rem;overflow-x:auto;max-width:100%;margin:0}
details{margin:.25rem 0 1rem}summary{cursor:pointer;color:var(--accent)}
.brand{display:flex;align-items:center;gap:.5rem;font-weight:600;color:var(--muted);margin:0 0 1.25rem;overflow-wrap:anywhere}.brand img{width:2rem;height:2rem;object-fit:contain;flex:none}
.destination{border:1px solid var(--line);border-left:4px solid var(--accent);border-radius:.375rem;padding:.5rem .75rem}.destination span{display:block;font-size:.85rem;color:var(--muted)}.destination strong{font-size:1.3rem;overflow-wrap:anywhere}
ul.scopes{padding-left:1.25rem}ul.scopes li+li{margin-top:.35rem}ul.scopes code{margin-left:.25rem}form+details{margin-top:1.25rem}
section.app{border-top:1px solid var(--line);padding-top:1rem;margin-bottom:1.5rem}section.app h2{margin-top:0;overflow-wrap:anywhere}
section.app dl{display:grid;grid-template-columns:auto minmax(0,1fr);gap:.35rem 1rem}section.app dd{margin:0}
@media (max-width:30rem){section.app dl{display:block}section.app dd{margin:0 0 .5rem}}
@media (max-width:40rem){table.rows thead{display:none}table.rows tr{display:block;border-bottom:1px solid var(--line);padding:.35rem 0}table.rows td{display:block;border:0;padding:.1rem 0}table.rows td[data-label]::before{content:attr(data-label) ": ";font-weight:600}code.id{max-width:9rem}table.rows code.id{display:inline;white-space:normal;overflow-wrap:anywhere;max-width:none}}
`.trim();

const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

/**
 * Every page: nothing cached, nothing framed, no referrer to other sites (codes and states stay
 * out of their logs), no script at all, forms only to this origin... except that `form-action`
 * is left out on purpose: browsers apply it to the redirect that follows a form post, which is
 * how the consent decision reaches the client's redirect URI. `same-origin`, not `no-referrer`:
 * under `no-referrer` browsers send `Origin: null` with the page's own form posts, and the
 * forms' CSRF check requires the issuer's origin there.
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'content-security-policy': `default-src 'none'; style-src '${STYLE_HASH}'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
};

export interface PageOptions {
  readonly title: string;
  readonly body: Html;
  readonly status?: number;
  readonly cookies?: readonly string[];
  /** The OAuth error a page reports, for the logs and metrics. */
  readonly error?: string;
  /** A wide layout (the dashboard's tables and charts) instead of the narrow form column. */
  readonly wide?: boolean;
}

/** A whole HTML document with the page headers. */
export function page({
  title,
  body,
  status = 200,
  cookies,
  error,
  wide,
}: PageOptions): HttpResponse {
  const document = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
<main${wide ? html` class="wide"` : ''}>
${body}
</main>
</body>
</html>
`;
  return {
    status,
    headers: { ...PAGE_HEADERS },
    body: document.value,
    ...(cookies && { cookies }),
    ...(error !== undefined && { error }),
  };
}
