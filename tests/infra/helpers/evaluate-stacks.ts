// Evaluates sst.config.ts for one stage the way `sst deploy` does, but against Pulumi's unit-test mocks:
// no AWS account, no Pulumi engine, no bundling of handlers. Run in a child process (Pulumi's runtime is
// process-global) by tests/infra/stacks.test.ts:
//
//   node --import tsx tests/infra/helpers/evaluate-stacks.ts <stage> <out.json>
//
// It mirrors the CLI's build of the config (SST 4.17.1's pkg/project/run.go and pkg/js/js.go): the
// platform's esbuild, its `run.ts` entry and globals shim, `@pulumi/*` left external and resolved from
// .sst/platform/node_modules, and the `aws`/`sst` globals imported into every project file. The CLI's
// local RPC server (SST_SERVER) is stood in for: it answers the bootstrap-bucket lookup and `Runtime.Build`
// (recording each function's handler and links instead of bundling). This leans on SST internals: re-run
// after upgrading `sst` and adjust here if the CLI's build changes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PLATFORM_DIR, ROOT } from "./platform";

/** Secrets the stacks declare get these values (the CLI passes `sst secret set` values the same way). */
export const MOCK_SECRETS = {
  DatabaseUrl: "postgres://app:pw@db.example.com:5432/cache",
  UpstashRedisRestUrl: "https://eu1-example.upstash.io",
  UpstashRedisRestToken: "upstash-token",
  ApiTokens: JSON.stringify([{ actor: "ci", role: "admin", token: "ci-token-0123456789" }]),
} as const;

export const MOCK_REGION = "eu-west-1";
export const MOCK_ACCOUNT = "123456789012";

/** One resource registered with the (mocked) engine. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, any>;
  readonly state: Record<string, any>;
}

/** One `Runtime.Build` request: what the CLI would have bundled for a function. */
export interface BuildRequest {
  readonly functionID: string;
  readonly handler: string;
  readonly links: Record<string, Record<string, unknown>>;
  readonly runtime: string;
}

/** What one evaluation produced. */
export interface Evaluation {
  readonly stage: string;
  readonly outputs: Record<string, unknown>;
  readonly resources: Registered[];
  readonly calls: { token: string; inputs: Record<string, any> }[];
  readonly builds: BuildRequest[];
  readonly errors: string[];
}

async function main(): Promise<void> {
  const [stage, outFile] = process.argv.slice(2);
  if (!stage || !outFile) throw new Error("usage: evaluate-stacks.ts <stage> <out.json>");
  const work = mkdtempSync(join(tmpdir(), "infra-eval-"));
  const errors: string[] = [];
  // Failures inside Pulumi `apply` callbacks surface as unhandled rejections; they are findings, not crashes.
  process.on("unhandledRejection", (e) => {
    if ((e as { code?: string } | undefined)?.code === "ERR_TRACE_EVENTS_UNAVAILABLE") return;
    errors.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  });

  const builds: BuildRequest[] = [];
  const rpc = await startRpcStub(work, builds);
  process.env.SST_SERVER = rpc.url;
  for (const [name, value] of Object.entries(MOCK_SECRETS)) process.env[`SST_SECRET_${name}`] = value;

  const bundle = join(PLATFORM_DIR, `infra-eval.${process.pid}.${Date.now()}.mjs`);
  try {
    await buildConfig(bundle, work);
    const resources: Registered[] = [];
    const calls: Evaluation["calls"] = [];
    const pulumi = await import(pathToFileURL(join(PLATFORM_DIR, "node_modules/@pulumi/pulumi/index.js")).href);
    await pulumi.runtime.setMocks(
      {
        newResource(args: { type: string; name: string; inputs: Record<string, any>; custom?: boolean }) {
          const state = mockState(args.type, args.name, args.inputs);
          resources.push({ type: args.type, name: args.name, custom: args.custom !== false, inputs: args.inputs, state });
          return { id: `${args.name}-id`, state };
        },
        call(args: { token: string; inputs: Record<string, any> }) {
          calls.push({ token: args.token, inputs: args.inputs });
          return mockCall(args.token, args.inputs);
        },
      },
      "scenario-matrix-cache",
      stage,
      false,
    );

    const mod = await import(pathToFileURL(bundle).href);
    // $app is what the CLI derives from the config's own app() for this stage.
    const app = await mod.config.app({ stage });
    (globalThis as Record<string, unknown>).__INFRA_EVAL_APP__ = {
      providers: { aws: { region: MOCK_REGION } },
      removal: "retain",
      protect: false,
      ...app,
      stage,
    };
    const outputs = await pulumi.runtime.runInPulumiStack(() => mod.run(mod.config.run));
    await settle(pulumi, () => resources.length + builds.length + calls.length);

    const result: Evaluation = { stage, outputs, resources, calls, builds, errors };
    writeFileSync(outFile, JSON.stringify(result, safeReplacer()));
  } finally {
    rmSync(bundle, { force: true });
    rmSync(`${bundle}.map`, { force: true });
    rpc.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Bundles sst.config.ts with the platform's esbuild, as the CLI does before `pulumi up`. */
async function buildConfig(outfile: string, work: string): Promise<void> {
  const esbuild = await import(pathToFileURL(join(PLATFORM_DIR, "node_modules/esbuild/lib/main.js")).href);
  const lock = JSON.parse(readFileSync(join(ROOT, ".sst", "provider-lock.json"), "utf8")) as { alias: string; package: string }[];
  const globals = [
    ...lock.map((p) => `import * as ${p.alias} from "${p.package}";`),
    `import * as sst from ${JSON.stringify(join(PLATFORM_DIR, "src/components"))};`,
  ].join("\n");
  const cli = {
    command: "deploy",
    dev: false,
    paths: { root: ROOT, work, platform: PLATFORM_DIR, home: join(work, "home") },
    home: "aws",
    state: { version: {} },
  };
  await esbuild.build({
    stdin: {
      contents: [
        `import { run } from ${JSON.stringify(join(PLATFORM_DIR, "src/auto/run.ts"))};`,
        `import config from ${JSON.stringify(join(ROOT, "sst.config.ts"))};`,
        "export { run, config };",
      ].join("\n"),
      resolveDir: ROOT,
      sourcefile: "eval.ts",
      loader: "ts",
    },
    bundle: true,
    outfile,
    format: "esm",
    platform: "node",
    mainFields: ["module", "main"],
    sourcemap: "linked",
    logLevel: "error",
    nodePaths: [join(PLATFORM_DIR, "node_modules")],
    external: ["@pulumi/*", "undici", "@pulumiverse/*", "@sst-provider/*", "@aws-sdk/*", "esbuild", "archiver", "glob", "vite"],
    banner: {
      js: [
        `import { createRequire as topLevelCreateRequire } from 'module';`,
        "const require = topLevelCreateRequire(import.meta.url);",
        `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
        "const __filename = topLevelFileUrlToPath(import.meta.url)",
        `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
      ].join("\n"),
    },
    inject: [join(PLATFORM_DIR, "src/shim/run.js")],
    // $app is read at evaluation time so one bundle serves whatever the config's app() returns.
    define: { $app: "globalThis.__INFRA_EVAL_APP__", $cli: JSON.stringify(cli), $dev: "false" },
    plugins: [
      {
        name: "InjectGlobals",
        setup(build: any) {
          build.onLoad({ filter: /\.(js|ts|jsx|tsx)$/ }, (args: { path: string }) => {
            let contents = readFileSync(args.path, "utf8");
            // Project files (not the platform's) use `aws` and `sst` as globals, like under the CLI.
            if (!args.path.includes(".sst")) contents = `${globals}\n${contents}`;
            return { contents, loader: args.path.endsWith(".js") ? "js" : "ts" };
          });
        },
      },
    ],
  });
}

/** The CLI's RPC server, reduced to what deploying Lambda functions asks of it. */
async function startRpcStub(work: string, builds: BuildRequest[]): Promise<{ url: string; close(): void }> {
  const handlers: Record<string, (args: any) => unknown> = {
    "Provider.Aws.Bootstrap": () => ({
      asset: "sst-asset-mock",
      assetEcrRegistryId: MOCK_ACCOUNT,
      assetEcrUrl: `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/sst-asset`,
      state: "sst-state-mock",
      appsyncHttp: "",
      appsyncRealtime: "",
    }),
    "Runtime.Build": (input: any) => {
      builds.push({ functionID: input.functionID, handler: input.handler, links: input.links ?? {}, runtime: input.runtime });
      const out = join(work, "build", input.functionID);
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, "index.mjs"), "export const handler = async () => ({});\n");
      return { handler: "index.handler", out, errors: [], sourcemaps: [] };
    },
    "Runtime.AddTarget": () => true,
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      const { method, params } = JSON.parse(body) as { method: string; params: unknown[] };
      const handler = handlers[method];
      let reply: unknown;
      try {
        reply = handler ? { result: await handler(params[0]) } : { error: `rpc: can't find method ${method}` };
      } catch (e) {
        reply = { error: e instanceof Error ? e.message : String(e) };
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** Plausible provider outputs for a mocked resource: ARNs, names and URLs that other resources consume. */
function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  const physical = typeof inputs.name === "string" ? inputs.name : name;
  const arnFor: Record<string, string> = {
    "aws:sqs/queue:Queue": `arn:aws:sqs:${MOCK_REGION}:${MOCK_ACCOUNT}:${physical}`,
    "aws:lambda/function:Function": `arn:aws:lambda:${MOCK_REGION}:${MOCK_ACCOUNT}:function:${physical}`,
    "aws:sns/topic:Topic": `arn:aws:sns:${MOCK_REGION}:${MOCK_ACCOUNT}:${physical}`,
    "aws:cloudwatch/metricAlarm:MetricAlarm": `arn:aws:cloudwatch:${MOCK_REGION}:${MOCK_ACCOUNT}:alarm:${physical}`,
    "aws:iam/role:Role": `arn:aws:iam::${MOCK_ACCOUNT}:role/${physical}`,
  };
  const state: Record<string, any> = {
    ...inputs,
    name: physical,
    arn: inputs.arn ?? arnFor[type] ?? `arn:aws:mock:${MOCK_REGION}:${MOCK_ACCOUNT}:${type}/${name}`,
  };
  if (type === "aws:sqs/queue:Queue") state.url = `https://sqs.${MOCK_REGION}.amazonaws.com/${MOCK_ACCOUNT}/${physical}`;
  if (type === "aws:lambda/function:Function") {
    state.invokeArn = `arn:aws:apigateway:${MOCK_REGION}:lambda:path/2015-03-31/functions/${state.arn}/invocations`;
    state.qualifiedArn = `${state.arn}:$LATEST`;
    state.version = "$LATEST";
  }
  if (type === "aws:apigatewayv2/api:Api") {
    state.apiEndpoint = `https://${name.toLowerCase()}.execute-api.${MOCK_REGION}.amazonaws.com`;
    state.executionArn = `arn:aws:execute-api:${MOCK_REGION}:${MOCK_ACCOUNT}:${name}`;
  }
  if (type === "random:index/randomBytes:RandomBytes") {
    state.base64 = Buffer.alloc(inputs.length ?? 32, 7).toString("base64");
    state.hex = Buffer.alloc(inputs.length ?? 32, 7).toString("hex");
  }
  return state;
}

/** Provider function calls (data sources) the stacks and SST components make. */
function mockCall(token: string, inputs: Record<string, any>): Record<string, any> {
  switch (token) {
    case "aws:index/getRegion:getRegion":
      return { id: MOCK_REGION, name: MOCK_REGION, region: MOCK_REGION, endpoint: `ec2.${MOCK_REGION}.amazonaws.com`, description: "mock" };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { id: MOCK_ACCOUNT, accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/ci`, userId: "ci" };
    case "aws:index/getPartition:getPartition":
      return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
    case "aws:iam/getPolicyDocument:getPolicyDocument":
      // Keep the statements readable for the tests: the JSON is what IAM would receive.
      // SST reads `statements` back to decide whether a role gets an inline policy; the provider
      // returns none for an empty list.
      return {
        ...inputs,
        statements: inputs.statements?.length ? inputs.statements : undefined,
        id: "policy",
        json: JSON.stringify({ Version: "2012-10-17", Statement: inputs.statements ?? [] }),
      };
    default:
      return inputs;
  }
}

/** Waits until the engine's queue is drained and nothing new was registered for a few turns. */
async function settle(pulumi: any, size: () => number): Promise<void> {
  let last = -1;
  for (let stable = 0, i = 0; stable < 5 && i < 200; i++) {
    await pulumi.runtime.waitForRPCs();
    await new Promise((r) => setTimeout(r, 20));
    const now = size();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
}

/** Pulumi's marker for a secret value in serialized inputs: `{ [SIG_KEY]: SECRET_SIG, value }`. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** JSON replacer that unwraps secrets (the tests assert values, not secrecy) and cuts cycles. */
function safeReplacer() {
  const seen = new WeakSet<object>();
  return (_key: string, value: unknown): unknown => {
    if (typeof value !== "object" || value === null) return value;
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG && "value" in record) return record.value;
    if (seen.has(value)) return "[circular]";
    seen.add(value);
    return value;
  };
}

main().then(
  () => {
    // Pulumi's leak detector hooks process exit and rewrites the code when mocks leave promises behind.
    process.removeAllListeners("exit");
    process.exit(0);
  },
  (e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.removeAllListeners("exit");
    process.exit(1);
  },
);
