import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * CloudWatch metrics in embedded metric format (written to the log, no API call). Namespace
 * from POWERTOOLS_METRICS_NAMESPACE (the stack sets it), service from POWERTOOLS_SERVICE_NAME.
 */
export const metrics = new Metrics({ namespace: 'ServerlessDcr', serviceName: 'serverless-dcr' });

export { MetricUnit };
