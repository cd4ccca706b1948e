// OpenAPI 3.1 built from the same zod schemas the routes parse with (zod 4's JSON Schema output).
import { z } from "zod";

export interface RouteDoc {
  readonly method: "get" | "post" | "delete";
  /** Hono path syntax (`:id`); converted to `{id}` */
  readonly path: string;
  readonly role: "read" | "admin" | "public";
  readonly summary: string;
  readonly body?: z.ZodType;
  readonly query?: z.ZodObject;
  readonly params?: z.ZodObject;
  readonly response?: z.ZodType;
  /** non-JSON responses (Prometheus text) */
  readonly responseContentType?: string;
}

const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    requestId: z.string(),
  }),
});

const schema = (t: z.ZodType, io: "input" | "output") =>
  z.toJSONSchema(t, { io, target: "draft-2020-12", unrepresentable: "any" }) as Record<string, unknown>;

function parameters(kind: "query" | "path", obj: z.ZodObject | undefined) {
  if (!obj) return [];
  return Object.entries(obj.shape).map(([name, t]) => ({
    name,
    in: kind,
    required: kind === "path" || !(t as z.ZodType).safeParse(undefined).success,
    schema: schema(t as z.ZodType, "input"),
  }));
}

export function buildOpenApi(routes: readonly RouteDoc[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const errors = Object.fromEntries(
      [["400", "invalid input"], ["401", "missing or invalid token"], ["403", "wrong role"], ["503", "a dependency is unavailable"]]
        .filter(([code]) => r.role !== "public" || code === "400" || code === "503")
        .map(([code, description]) => [code, { description, content: { "application/json": { schema: schema(ErrorBody, "output") } } }]),
    );
    paths[path] ??= {};
    paths[path][r.method] = {
      summary: r.summary,
      "x-required-role": r.role,
      security: r.role === "public" ? [] : [{ bearer: [] }],
      parameters: [...parameters("path", r.params), ...parameters("query", r.query)],
      ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: schema(r.body, "input") } } } } : {}),
      responses: {
        "200": {
          description: "OK",
          content: r.responseContentType
            ? { [r.responseContentType]: { schema: { type: "string" } } }
            : { "application/json": { schema: r.response ? schema(r.response, "output") : {} } },
        },
        ...errors,
      },
    };
  }
  return {
    openapi: "3.1.0",
    info,
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths,
  };
}
