import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * CloudWatch metrics in embedded metric format (written to the log, no API call), one instance
 * per function with its name as the `endpoint` dimension. Namespace from
 * POWERTOOLS_METRICS_NAMESPACE (the stack sets it), service from POWERTOOLS_SERVICE_NAME.
 */
export const metricsFor = (endpoint: string): Metrics =>
  new Metrics({
    namespace: 'ServerlessDcr',
    serviceName: 'serverless-dcr',
    defaultDimensions: { endpoint },
  });

export { MetricUnit };
