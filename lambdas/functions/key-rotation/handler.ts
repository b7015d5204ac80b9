import type { CloudFormationCustomResourceEvent, Context, ScheduledEvent } from 'aws-lambda';
import { DynamoDbSigningKeys } from '../../adapters/dynamodb/dynamodb-signing-keys.js';
import { documentClient } from '../../aws/dynamodb.js';
import { kmsKeyWrapping } from '../../aws/kms.js';
import { loadConfig } from '../../config.js';
import { systemClock } from '../../core/clock.js';
import { KeyRotation, type RotationOutcome } from '../../core/signing/key-rotation.js';
import { logger } from '../../log.js';

const config = loadConfig(process.env);
if (config.signingMode !== 'wrapped') {
  throw new Error('invalid configuration: DCR_SIGNING_MODE must be wrapped for key rotation');
}
const rotation = new KeyRotation(
  new DynamoDbSigningKeys(documentClient(), config.tableName),
  kmsKeyWrapping(config),
  systemClock,
  {
    alg: config.signingAlg,
    accessTokenLifetimeSeconds: config.accessTokenLifetimeSeconds,
    keyringRefreshSeconds: config.keyringRefreshSeconds,
  },
);

/** The custom resource's physical id: one keyring per table, kept across updates. */
const PHYSICAL_ID = 'signing-keyring';

/** Tells CloudFormation how the custom resource went (the pre-signed ResponseURL, a PUT). */
async function respond(
  event: CloudFormationCustomResourceEvent,
  status: 'SUCCESS' | 'FAILED',
  reason: string,
) {
  const body = Buffer.from(
    JSON.stringify({
      Status: status,
      Reason: reason,
      PhysicalResourceId: PHYSICAL_ID,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    }),
  );
  const response = await fetch(event.ResponseURL, { method: 'PUT', body });
  if (!response.ok) throw new Error(`CloudFormation response refused: ${response.status}`);
}

const isCustomResource = (event: unknown): event is CloudFormationCustomResourceEvent =>
  typeof event === 'object' && event !== null && 'RequestType' in event && 'ResponseURL' in event;

const isScheduled = (event: unknown): event is ScheduledEvent =>
  typeof event === 'object' &&
  event !== null &&
  (event as ScheduledEvent)['detail-type'] === 'Scheduled Event';

/**
 * The wrapped mode's key rotation (docs/deployment.md "Signing modes"): at deploy, a CloudFormation custom
 * resource makes sure a key exists (the first one signs at once); on the schedule, the next key
 * is made, to sign once every verifier can know it. Deleting the stack leaves the keys (the
 * table is retained with them).
 */
export const handler = async (
  event: CloudFormationCustomResourceEvent | ScheduledEvent,
  context?: Context,
): Promise<RotationOutcome | undefined> => {
  if (context) logger.addContext(context);
  if (isCustomResource(event)) {
    try {
      const outcome = event.RequestType === 'Delete' ? undefined : await rotation.ensureKey();
      logger.info('signing keyring ensured', { requestType: event.RequestType, ...outcome });
      await respond(event, 'SUCCESS', outcome?.outcome ?? 'kept');
      return outcome;
    } catch (error) {
      logger.error('signing keyring not ensured', { errorName: (error as Error).name });
      await respond(event, 'FAILED', 'the signing keyring could not be created; see the logs');
      return undefined;
    }
  }
  if (!isScheduled(event)) throw new Error('key rotation runs on its schedule or at deploy');
  const outcome = await rotation.rotate();
  logger.info('signing key rotation', { ...outcome });
  return outcome;
};
