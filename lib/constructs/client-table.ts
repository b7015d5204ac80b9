import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  Billing,
  ProjectionType,
  StreamViewType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../lambdas/adapters/dynamodb/table-schema.js';

export interface ClientTableProps {
  /** Keep the table (and its data) when the stack is deleted. Default: true. */
  readonly retain?: boolean;
  /**
   * Other regions holding a replica (a DynamoDB global table, docs/deployment.md "Multi-region"); each
   * replica has the same settings, its own stream and the expiry index.
   */
  readonly replicaRegions?: readonly string[];
}

/**
 * The single table: on demand, point-in-time recovery, TTL, deletion protection, encrypted,
 * with a stream of new and old images for audit consumers, and the sparse expiry index the
 * cleanup reads.
 */
export class ClientTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string, props: ClientTableProps = {}) {
    super(scope, id);
    const retain = props.retain ?? true;
    const { expiryIndex } = TABLE_SCHEMA;
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      encryption: TableEncryptionV2.awsManagedKey(),
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      ...(props.replicaRegions?.length && {
        replicas: props.replicaRegions.map((region) => ({ region })),
      }),
      globalSecondaryIndexes: [
        {
          indexName: expiryIndex.name,
          partitionKey: { name: expiryIndex.partitionKey, type: AttributeType.STRING },
          sortKey: { name: expiryIndex.sortKey, type: AttributeType.NUMBER },
          projectionType: ProjectionType.KEYS_ONLY,
        },
      ],
    });
  }
}
