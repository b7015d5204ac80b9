/**
 * `tsx bench/profile-summary.ts <file.cpuprofile> [top] [requests]`: a V8 CPU profile (from
 * `node --cpu-prof`) summarised by function: self and inclusive shares of the busy time, the top
 * entries of each. Busy: neither idle nor loading modules (the loader, tsx's transform), so a
 * short run's start-up does not drown the requests. With `requests` (how many the profiled run
 * served), each line also gives µs per request. Inclusive time counts a function once per
 * sample even when it recurs; an `await`'s continuation is attributed to its own frames only.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

const [file, topArg, requestsArg] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: profile-summary.ts <file.cpuprofile> [top] [requests]');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);

const label = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*\/(node_modules\/|lambdas\/|local\/|bench\/)/, '$1');
  return `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
};

const LOADING = /internal\/modules|esbuild|tsx\/dist/;
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
let skipped = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const stack: ProfileNode[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    stack.push(byId.get(at) as ProfileNode);
  }
  const leaf = stack[0] as ProfileNode;
  if (
    leaf.callFrame.functionName === '(idle)' ||
    stack.some((n) => LOADING.test(n.callFrame.url))
  ) {
    skipped += dt;
    return;
  }
  total += dt;
  self.set(label(leaf), (self.get(label(leaf)) ?? 0) + dt);
  const seen = new Set<string>();
  for (const node of stack) {
    const name = label(node);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
  }
});
const requests = requestsArg === undefined ? undefined : Number(requestsArg);

const print = (title: string, table: Map<string, number>) => {
  const busy = `${(total / 1000).toFixed(0)} ms busy (${(skipped / 1000).toFixed(0)} ms idle or loading left out)`;
  console.log(`\n${title}, of ${busy}${requests ? `, µs per request of ${requests}` : ''}`);
  [...table]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([name, t]) => {
      const share = `${((100 * t) / total).toFixed(1).padStart(5)} %`;
      const micros = requests ? ` ${(t / requests).toFixed(1).padStart(7)} µs` : '';
      console.log(`${share}${micros}  ${name}`);
    });
};
print('self', self);
print('inclusive', inclusive);
