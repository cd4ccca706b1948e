// API Gateway HTTP API (payload format 2.0) events and a Lambda context, shaped as AWS sends them.
import type { APIGatewayProxyEventV2, Context, SQSEvent, SQSRecord } from "aws-lambda";
import { createHash, randomUUID } from "node:crypto";
import type { LambdaEvent } from "hono/aws-lambda";

export function httpEvent(opts: {
  method: string;
  path: string;
  routeKey?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  pathParameters?: Record<string, string>;
}): APIGatewayProxyEventV2 & LambdaEvent {
  const rawQueryString = new URLSearchParams(opts.query ?? {}).toString();
  const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  return {
    version: "2.0",
    routeKey: opts.routeKey ?? `${opts.method} ${opts.path}`,
    rawPath: opts.path,
    rawQueryString,
    cookies: undefined,
    headers: {
      accept: "application/json",
      "content-type": "application/json",
      host: "abc123.execute-api.eu-west-1.amazonaws.com",
      "user-agent": "curl/8.5.0",
      "x-forwarded-for": "203.0.113.7",
      "x-forwarded-port": "443",
      "x-forwarded-proto": "https",
      ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}),
      ...opts.headers,
    },
    queryStringParameters: opts.query,
    pathParameters: opts.pathParameters,
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      domainName: "abc123.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc123",
      http: { method: opts.method, path: opts.path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "curl/8.5.0" },
      requestId: `${randomUUID().slice(0, 8)}=`,
      routeKey: opts.routeKey ?? `${opts.method} ${opts.path}`,
      stage: "$default",
      time: "26/Nov/2026:00:00:00 +0000",
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2 & LambdaEvent;
}

export function lambdaContext(functionName = "test-fn"): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "2026/11/26/[$LATEST]abcdef",
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export function sqsRecord(body: string, opts: { receiveCount?: number; queue?: string } = {}): SQSRecord {
  const queue = opts.queue ?? "warm-high";
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${randomUUID().replace(/-/g, "")}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(opts.receiveCount ?? 1),
      SentTimestamp: String(Date.now()),
      SenderId: "AIDAIENQZJOLO23YVJ4VO",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:${queue}`,
    awsRegion: "eu-west-1",
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
