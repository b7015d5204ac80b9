import type { Upstream } from './synthesized-stack.js';

/**
 * Secrets Manager as far as the functions need it (the awsJson1_1 protocol the SDK speaks):
 * GetSecretValue of fixed secrets by ARN, ResourceNotFoundException for anything else. Reads
 * are recorded (by secret id) so tests can count them.
 */
export function secretsManagerStandIn(
  secrets: ReadonlyMap<string, string>,
  reads: string[] = [],
): Upstream {
  return async (request) => {
    const reply = (status: number, body: unknown) => ({
      status,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: Buffer.from(JSON.stringify(body)),
    });
    if (request.operation !== 'GetSecretValue') {
      return reply(400, { __type: 'UnsupportedOperationException', message: request.operation });
    }
    const { SecretId: id = '' } = JSON.parse(request.body.toString('utf8') || '{}') as {
      SecretId?: string;
    };
    reads.push(id);
    const value = secrets.get(id);
    if (value === undefined) {
      return reply(400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
    }
    return reply(200, {
      ARN: id,
      Name: id.split(':').at(-1),
      SecretString: value,
      VersionId: '00000000-0000-0000-0000-000000000001',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1_800_000_000,
    });
  };
}
