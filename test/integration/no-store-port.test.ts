import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../local/embedded-store.js';
import { listeningPorts, processTree, socketInodes } from '../support/listeners.js';

/**
 * The embedded store holds every client's secret hash and scope; dynalite accepts any
 * credentials and answers any Origin, so a port of its would let any local process or web page
 * rewrite clients. Nothing may listen but the server itself.
 */
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('the embedded store listens on no port', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcr-no-port-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('opens no socket in this process, and keeps its data folder to this user', async () => {
    const dir = join(tempDir(), 'data', 'dynamodb');
    const socketsBefore = socketInodes(process.pid).sort();
    const listeningBefore = listeningPorts([process.pid]);
    const store = await startEmbeddedStore('no-port', dir);
    try {
      const Key = { pk: { S: 'client#a' }, sk: { S: 'client' } };
      await store.client.send(new PutItemCommand({ TableName: 'no-port', Item: Key }));
      const { Item } = await store.client.send(new GetItemCommand({ TableName: 'no-port', Key }));
      expect(Item).toEqual(Key);
      expect(listeningPorts([process.pid])).toEqual(listeningBefore);
      expect(socketInodes(process.pid).sort()).toEqual(socketsBefore);
      expect(mode(dir)).toBe('700');
      expect(mode(join(dir, '..'))).toBe('700');
    } finally {
      await store.close();
    }
  });

  it('npm start: the server’s port is the only TCP port its processes listen on', async () => {
    const dataDir = join(tempDir(), 'data');
    // Its own process group, so that npm and the server stop together.
    const child: ChildProcess = spawn('npm', ['start'], {
      cwd: projectRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        PORT: '0',
        DCR_DATA_DIR: dataDir,
        DCR_AUDIT_LOG: 'off',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let issuer = '';
      for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
        issuer = /issuer:\s+(http\S+)/.exec(line)?.[1] ?? '';
        if (issuer) break;
      }
      expect(issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const port = Number(new URL(issuer).port);
      // A registration goes through the store: it works, and opens nothing either.
      const registered = await fetch(`${issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'probe', grant_types: ['client_credentials'] }),
      });
      expect(registered.status).toBe(201);
      expect(listeningPorts(processTree(child.pid as number))).toEqual([port]);
      expect(mode(dataDir)).toBe('700');
      expect(mode(join(dataDir, 'dynamodb'))).toBe('700');
    } finally {
      process.kill(-(child.pid as number), 'SIGTERM');
      await exited;
    }
  });
});
