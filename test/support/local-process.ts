import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface Started {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

/**
 * The local server as a person starts it, in its own process group so that it stops whole:
 * `node --import tsx local/main.ts` (what `npm start` execs), or another command such as
 * `npm start` itself.
 */
export function startLocalProcess(
  env: Record<string, string>,
  command: readonly string[] = [process.execPath, '--import', 'tsx', 'local/main.ts'],
): Started {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, {
    cwd: projectRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: '0',
      DCR_AUDIT_LOG: 'off',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      ...env,
    },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The banner, once the server has printed all of it. */
export async function banner(started: Started): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (!started.stdout().includes('Ctrl-C stops the server.')) {
    if (started.child.exitCode !== null) throw new Error(`exited: ${started.stderr()}`);
    if (Date.now() > deadline) throw new Error('no banner');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return started.stdout();
}

/** The issuer the banner names. */
export const issuerOf = (text: string) => /issuer:\s+(http\S+)/.exec(text)?.[1] as string;
