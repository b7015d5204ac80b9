import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbClientStatistics } from '../../lambdas/adapters/dynamodb/dynamodb-client-statistics.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import { startEmbeddedStore } from '../../local/embedded-store.js';
import {
  banner,
  issuerOf,
  projectRoot,
  type Started,
  startLocalProcess,
} from '../support/local-process.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * `npm start` run as a service (systemd, a container, a process manager), acted on from
 * outside as those do: signals, a second start on the same folder, a kill.
 */
const run = promisify(execFile);
const ADMIN_TOKEN = 'service-admin-token-0123456789-abcdefghij';

const dirs: string[] = [];
const running: Started[] = [];
afterEach(async () => {
  for (const started of running.splice(0)) {
    if (started.child.exitCode === null && started.child.signalCode === null) {
      process.kill(-(started.child.pid as number), 'SIGKILL');
    }
    await started.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-service-'));
  dirs.push(dir);
  return dir;
}

/** A server on `dir`, with its log lines (INFO) on standard output; resolves with its issuer. */
async function serve(dir: string, command?: readonly string[]) {
  const started = startLocalProcess(
    { DCR_DATA_DIR: dir, DCR_ADMIN_TOKEN: ADMIN_TOKEN, POWERTOOLS_LOG_LEVEL: 'INFO' },
    command,
  );
  running.push(started);
  return { started, issuer: issuerOf(await banner(started)) };
}

const REGISTRATION = JSON.stringify({
  client_name: 'drained',
  grant_types: ['client_credentials'],
});

/**
 * A registration whose request is in flight: its headers and the first half of its body are
 * sent now, the rest when `finish` is called.
 */
function halfSentRegistration(issuer: string) {
  const { hostname, port } = new URL(issuer);
  let finish = () => {};
  const answered = new Promise<{ status: number; connection: string; body: Json }>(
    (resolve, reject) => {
      const req = request(
        {
          hostname,
          port,
          path: '/register',
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(REGISTRATION),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              connection: String(res.headers.connection),
              body: JSON.parse(text) as Json,
            }),
          );
        },
      );
      req.on('error', reject);
      const half = REGISTRATION.length >> 1;
      req.write(REGISTRATION.slice(0, half));
      finish = () => req.end(REGISTRATION.slice(half));
    },
  );
  return { answered, finish: () => finish() };
}

/** The client as its registration access token reads it back: 200 if the server kept it. */
const readBack = (issuer: string, client: Json) =>
  fetch(`${issuer}/register/${client.client_id}`, {
    headers: { authorization: `Bearer ${client.registration_access_token}` },
  }).then((response) => response.status);

describe('npm start as a service', () => {
  it('SIGTERM under load: answers every request in flight, exits 0, and the next start finds everything', async () => {
    const dir = dataDir();
    const { started, issuer } = await serve(dir);
    const inFlight = Array.from({ length: 12 }, () => halfSentRegistration(issuer));
    // Load: a request whose connection the server had not accepted yet when it stopped
    // listening, or that went down a kept-alive connection as the server closed it idle, is
    // refused or reset without having reached the server: the registrations counted below
    // show that every request the server took was answered.
    const load = Array.from({ length: 30 }, () =>
      jsonPost(`${issuer}/register`, REGISTRATION).then(
        async (response) => ({ status: response.status, body: await readJson(response) }),
        (error: Error) => ({ status: (error.cause as { code?: string }).code, body: {} }),
      ),
    );
    // Once this is answered, the server has read the half-sent requests' headers.
    expect((await fetch(`${issuer}/.well-known/oauth-authorization-server`)).status).toBe(200);
    started.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const request of inFlight) request.finish();

    const answers = await Promise.all(inFlight.map((request) => request.answered));
    for (const answer of answers) {
      expect(answer.status).toBe(201);
      expect(answer.connection).toBe('close');
    }
    const loaded = await Promise.all(load);
    for (const answer of loaded) {
      expect([201, 'ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']).toContain(answer.status);
    }
    const registered = [...answers, ...loaded.filter((answer) => answer.status === 201)];
    expect(await started.exited).toBe(0);
    expect(started.stdout()).toContain('"message":"stopped"');

    // The folder is free at once, and nothing acknowledged is missing: a clean stop, no recount.
    const next = await serve(dir);
    for (const { body } of registered) expect(await readBack(next.issuer, body)).toBe(200);
    expect(next.started.stdout()).not.toContain('statistics recounted');
    const stats = await readJson(
      await fetch(`${next.issuer}/admin/stats`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
    );
    expect(stats.active_clients).toBe(registered.length);
  });

  it('npm start: SIGTERM to npm alone reaches the server, which drains and frees the port and the folder', async () => {
    const dir = dataDir();
    const { started, issuer } = await serve(dir, ['npm', 'start']);
    process.kill(started.child.pid as number, 'SIGTERM'); // npm's process, not its group
    await started.exited;
    const deadline = Date.now() + 10_000;
    while (!started.stdout().includes('"message":"stopped"') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(started.stdout()).toContain('"message":"stopped"');
    await expect(fetch(issuer)).rejects.toThrow();
    await serve(dir);
  });

  it('a killed server leaves no lock behind, even one naming a live process; its successor recounts the statistics', async () => {
    const dir = dataDir();
    const first = await serve(dir);
    for (let i = 0; i < 3; i++) {
      expect((await jsonPost(`${first.issuer}/register`, REGISTRATION)).status).toBe(201);
    }
    first.started.child.kill('SIGTERM');
    expect(await first.started.exited).toBe(0);
    // The counters drift (as changes a kill cut short would leave them)...
    const store = await startEmbeddedStore('serverless-dcr', join(dir, 'dynamodb'));
    await new DynamoDbClientStatistics(documentClient(store.client), 'serverless-dcr').setActive(
      { 'active#open': 99 },
      1_800_000_000,
    );
    await store.close();
    // ...and a server is killed.
    const killed = await serve(dir);
    killed.started.child.kill('SIGKILL');
    await killed.started.exited;
    // An earlier version's lock file, naming a live process (this one: as a restarted
    // container's server, which gets its predecessor's PID, would find its own).
    writeFileSync(join(dir, 'dynamodb', 'server.lock'), String(process.pid));
    // A sweep of the stopped server's folder in between does not hide the unclean stop.
    await run(process.execPath, ['--import', 'tsx', 'local/cleanup.ts'], {
      cwd: projectRoot,
      env: { ...process.env, DCR_DATA_DIR: dir },
    });

    const successor = await serve(dir);
    expect(successor.started.stdout()).toContain('statistics recounted');
    const stats = await readJson(
      await fetch(`${successor.issuer}/admin/stats`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
    );
    expect(stats.active_clients).toBe(3);

    // While it runs, a second server on the folder is refused, saying why.
    const second = startLocalProcess({ DCR_DATA_DIR: dir });
    running.push(second);
    expect(await second.exited).toBe(1);
    const store_ = join(dir, 'dynamodb');
    expect(second.stderr()).toContain(
      `serverless-dcr: the data folder ${store_} is in use by another server (its store's lock, ${join(store_, 'LOCK')}, is held); stop that one first`,
    );
  });
});
