// Loads one bundled handler in a fresh Node process, as a Lambda cold start does, and reports
// how long the import took and every network attempt made meanwhile (there must be none).
import dns from 'node:dns';
import net from 'node:net';

const attempts = [];
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  attempts.push(`connect ${JSON.stringify(args[0]).slice(0, 120)}`);
  return connect.apply(this, args);
};
const lookup = dns.lookup;
dns.lookup = function (hostname, ...rest) {
  attempts.push(`lookup ${hostname}`);
  return lookup.call(this, hostname, ...rest);
};

const started = performance.now();
const cpuBefore = process.cpuUsage();
const module = await import(process.argv[2]);
const importMs = performance.now() - started;
// CPU time the import took: less distorted than its wall time on a machine shared with others.
const { user, system } = process.cpuUsage(cpuBefore);
const cpuMs = (user + system) / 1000;
// Anything started during initialisation but not awaited gets its chance to show up.
await new Promise((resolve) => setTimeout(resolve, 100));
console.log(JSON.stringify({ importMs, cpuMs, handler: typeof module.handler, attempts }));
