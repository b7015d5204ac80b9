import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  ApiMapping,
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
  /** RFC 8705 §5: a second domain that does mutual TLS, for the endpoints' aliases. */
  readonly mtls?: MutualTlsDomainProps;
}

export interface MutualTlsDomainProps {
  readonly domainName: string;
  readonly certificateArn: string;
  /** `s3://bucket/key` of the PEM truststore the domain verifies client certificates with. */
  readonly truststoreUri: string;
  readonly truststoreVersion?: string;
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
 * with JSON access logs; optionally behind a custom domain (the issuer's), and a second one that
 * does mutual TLS (RFC 8705 §5 endpoint aliases).
 */
export class DcrApi extends Construct {
  readonly api: HttpApi;
  /** The issuer URL: the custom domain, else the API's own endpoint. */
  readonly issuer: string;
  /** Set when the issuer is fixed by configuration (custom domain). */
  readonly configuredIssuer?: string;
  /** The origin of the mutual TLS domain, when there is one (RFC 8705 `mtls_endpoint_aliases`). */
  readonly mtlsOrigin?: string;
  /** The custom domains: each name's DNS record points at its own regional domain name. */
  readonly domain?: DomainName;
  readonly mtlsDomain?: DomainName;

  constructor(scope: Construct, id: string, props: DcrApiProps) {
    super(scope, id);
    const custom = props.customDomain;
    this.api = new HttpApi(this, 'Api', {
      createDefaultStage: false,
      // With custom domains the execute-api URL would bypass them (and the issuer they fix).
      disableExecuteApiEndpoint: custom !== undefined,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.domain =
      custom &&
      new DomainName(this, 'Domain', {
        domainName: custom.domainName,
        certificate: Certificate.fromCertificateArn(this, 'Certificate', custom.certificateArn),
      });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRateLimit, burstLimit: props.throttleBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    if (this.domain) {
      // The issuer's domain: plain TLS, open to browsers, MCP clients, resource servers, dcr-admin.
      // Made as the stage's `domainMapping` makes it, named after the domain's path and mapping
      // key, but without path components named `Default` (as logical ids leave them out): the
      // mapping keeps its id from before the server became a construct, since a new id would
      // replace it, and CloudFormation would create the domain's second `$default` mapping first.
      const path = this.domain.node.path.split('/').filter((c) => c !== 'Default');
      new ApiMapping(stage, `${path.join('/')}undefined`, {
        api: this.api,
        stage,
        domainName: this.domain,
      });
      stage.node.addDependency(this.domain);
    }
    if (custom?.mtls) {
      // The same API and stage behind a second domain that asks every client for a certificate.
      this.mtlsDomain = this.mutualTlsDomain(custom.mtls);
      new ApiMapping(this, 'MtlsMapping', { api: this.api, stage, domainName: this.mtlsDomain });
      this.mtlsOrigin = `https://${custom.mtls.domainName}`;
    }
    if (custom) {
      this.configuredIssuer = `https://${custom.domainName}`;
      this.issuer = this.configuredIssuer;
    } else {
      this.issuer = this.api.apiEndpoint;
    }
  }

  /** The mutual TLS domain: API Gateway verifies client certificates against the truststore. */
  private mutualTlsDomain(mtls: MutualTlsDomainProps): DomainName {
    const [, bucket, key] = mtls.truststoreUri.match(/^s3:\/\/([^/]+)\/(.+)$/) ?? [];
    if (bucket === undefined || key === undefined) {
      throw new Error(`truststore ${mtls.truststoreUri}: not an s3://bucket/key URI`);
    }
    return new DomainName(this, 'MtlsDomain', {
      domainName: mtls.domainName,
      certificate: Certificate.fromCertificateArn(this, 'MtlsCertificate', mtls.certificateArn),
      mtls: {
        bucket: Bucket.fromBucketName(this, 'Truststore', bucket),
        key,
        ...(mtls.truststoreVersion && { version: mtls.truststoreVersion }),
      },
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
