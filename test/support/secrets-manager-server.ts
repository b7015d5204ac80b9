import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsManagerTestServer {
  readonly endpoint: string;
  /** GetSecretValue calls received, by secret id. */
  readonly reads: string[];
  close(): Promise<void>;
}

/**
 * A small Secrets Manager-compatible server (the awsJson1_1 protocol the SDK speaks) holding
 * fixed secrets by ARN: GetSecretValue, and ResourceNotFoundException for anything else.
 */
export async function startSecretsManagerServer(
  secrets: ReadonlyMap<string, string>,
): Promise<SecretsManagerTestServer> {
  const reads: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').replace('secretsmanager.', '');
      const input = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { SecretId?: string };
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (operation !== 'GetSecretValue') {
        return reply(400, { __type: 'UnsupportedOperationException', message: operation });
      }
      const id = input.SecretId ?? '';
      reads.push(id);
      const value = secrets.get(id);
      if (value === undefined) {
        return reply(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
      }
      reply(200, {
        ARN: id,
        Name: id.split(':').at(-1),
        SecretString: value,
        VersionId: '00000000-0000-0000-0000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_800_000_000,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reads,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
