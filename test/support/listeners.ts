import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Which TCP ports processes listen on, read from Linux's /proc (`ss` and `lsof` may not be
 * installed): /proc/net/tcp{,6} lists every socket with its state and inode, and a process's
 * open sockets show in /proc/<pid>/fd as links to `socket:[inode]`.
 */

/** Inode → local port of every TCP socket in LISTEN state (0A), IPv4 and IPv6. */
function listeningInodes(): Map<string, number> {
  const listening = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const [, local = '', , state, , , , , , inode = ''] = line.trim().split(/\s+/);
      if (state === '0A') listening.set(inode, Number.parseInt(local.split(':')[1] ?? '', 16));
    }
  }
  return listening;
}

/** The inodes of the sockets process `pid` has open. */
export function socketInodes(pid: number): string[] {
  const inodes: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.push(inode);
    } catch {
      // Closed while we looked.
    }
  }
  return inodes;
}

/** `pid` and all its descendants (npm → sh → tsx → node). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The fields after the command name, which may hold spaces: state, then the parent's pid.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // Exited while we looked.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/** The TCP ports the given processes listen on, one entry per listening socket. */
export function listeningPorts(pids: readonly number[]): number[] {
  const listening = listeningInodes();
  const inodes = new Set(pids.flatMap((pid) => socketInodes(pid)));
  return [...inodes].flatMap((inode) => {
    const port = listening.get(inode);
    return port === undefined ? [] : [port];
  });
}
