import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  DomainName,
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface CustomDomainProps {
  readonly domainName: string;
  readonly certificateArn: string;
  /** `s3://bucket/key` of a PEM truststore: mutual TLS for RFC 8705 client authentication. */
  readonly mtlsTruststoreUri?: string;
  readonly mtlsTruststoreVersion?: string;
}

export interface DcrApiProps {
  /** Steady requests per second across the API. */
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  readonly logRetention: RetentionDays;
  /** When set, the issuer is https://<domainName> and the execute-api URL is turned off. */
  readonly customDomain?: CustomDomainProps;
}

/**
 * The HTTP API: one `$default` stage (so the URL has no path and is a clean issuer), throttled,
 * with JSON access logs; optionally behind a custom domain with mutual TLS.
 */
export class DcrApi extends Construct {
  readonly api: HttpApi;
  /** The issuer URL: the custom domain, else the API's own endpoint. */
  readonly issuer: string;
  /** Set when the issuer is fixed by configuration (custom domain). */
  readonly configuredIssuer?: string;

  constructor(scope: Construct, id: string, props: DcrApiProps) {
    super(scope, id);
    const domain = props.customDomain && this.domain(props.customDomain);
    this.api = new HttpApi(this, 'Api', {
      createDefaultStage: false,
      // With a custom domain (and mTLS) the execute-api URL would bypass both.
      disableExecuteApiEndpoint: domain !== undefined,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRateLimit, burstLimit: props.throttleBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.jsonWithStandardFields(),
      },
      ...(domain && { domainMapping: { domainName: domain } }),
    });
    if (props.customDomain) {
      this.configuredIssuer = `https://${props.customDomain.domainName}`;
      this.issuer = this.configuredIssuer;
    } else {
      this.issuer = this.api.apiEndpoint;
    }
  }

  private domain(custom: CustomDomainProps): DomainName {
    const truststore = custom.mtlsTruststoreUri?.match(/^s3:\/\/([^/]+)\/(.+)$/);
    return new DomainName(this, 'Domain', {
      domainName: custom.domainName,
      certificate: Certificate.fromCertificateArn(this, 'Certificate', custom.certificateArn),
      ...(truststore && {
        mtls: {
          bucket: Bucket.fromBucketName(this, 'Truststore', truststore[1] as string),
          key: truststore[2] as string,
          ...(custom.mtlsTruststoreVersion && { version: custom.mtlsTruststoreVersion }),
        },
      }),
    });
  }

  /**
   * Routes each path, any method, to the function, whose router answers for all methods. With
   * `iam`, API Gateway admits only SigV4-signed requests of principals allowed execute-api:Invoke.
   */
  route(id: string, fn: IFunction, paths: readonly string[], iam = false): void {
    const integration = new HttpLambdaIntegration(`${id}-integration`, fn);
    for (const path of paths) {
      const routes = this.api.addRoutes({
        path,
        methods: [HttpMethod.ANY],
        integration,
        ...(iam && { authorizer: new HttpIamAuthorizer() }),
      });
      if (!iam) routes.forEach(acknowledgePublic);
    }
  }

  /** `$default`: what matches no route still gets the router's RFC-shaped 404. */
  routeDefault(fn: IFunction): void {
    const route = new HttpRoute(this, 'DefaultRoute', {
      httpApi: this.api,
      routeKey: HttpRouteKey.DEFAULT,
      integration: new HttpLambdaIntegration('default-integration', fn),
    });
    acknowledgePublic(route);
  }
}

function acknowledgePublic(route: HttpRoute): void {
  Validations.of(route).acknowledge({
    id: 'AwsSolutions-APIG4',
    reason:
      'OAuth endpoints are public by design: each request carries its own credential as the ' +
      'specs require (client authentication per RFC 6749/7523, the registration access token ' +
      'per RFC 7592), checked by the function; discovery, JWKS, registration and preflights ' +
      'are anonymous in every OAuth server',
  });
}
