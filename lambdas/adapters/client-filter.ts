import { softwareIdKey } from '../core/clients/client-metadata.js';
import type { ClientFilter, ClientRecord } from '../core/clients/ports.js';

/** Whether a record matches every given criterion (the in-memory form of the scan filter). */
export function matches(record: ClientRecord, filter: ClientFilter): boolean {
  const { metadata: m } = record;
  const used = record.lastUsedAt;
  const { search } = filter;
  return (
    (search === undefined ||
      (m.client_name ?? '').startsWith(search) ||
      m.software_id === search ||
      record.clientId === search) &&
    (filter.softwareId === undefined ||
      (record.softwareKey === undefined
        ? m.software_id === filter.softwareId
        : record.softwareKey === softwareIdKey(filter.softwareId))) &&
    (filter.clientNamePrefix === undefined ||
      (m.client_name ?? '').startsWith(filter.clientNamePrefix)) &&
    (filter.registrationMethod === undefined ||
      record.registrationMethod === filter.registrationMethod) &&
    (filter.initialAccessTokenId === undefined ||
      record.initialAccessTokenId === filter.initialAccessTokenId) &&
    (filter.createdAfter === undefined || record.clientIdIssuedAt >= filter.createdAfter) &&
    (filter.createdBefore === undefined || record.clientIdIssuedAt < filter.createdBefore) &&
    (filter.lastUsedAfter === undefined || (used !== undefined && used >= filter.lastUsedAfter)) &&
    (filter.lastUsedBefore === undefined || (used !== undefined && used < filter.lastUsedBefore))
  );
}
