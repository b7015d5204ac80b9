/** The table's key schema, shared by the CDK stack and the embedded local store. */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** DynamoDB TTL attribute: integer epoch seconds. */
  ttlAttribute: 'ttl',
} as const;
