// Lambda: POST /api/cache/invalidate.
import { handle } from "hono/aws-lambda";
import { createDrizzleAuditStore } from "../adapters/audit-drizzle";
import { createApp } from "./http/kernel";
import { invalidateRoutes } from "./http/routes/invalidate";
import { lambdaContext } from "./shared/lambda";

const { runtime, auth } = await lambdaContext("invalidate");
export const app = invalidateRoutes(createApp({ auth, log: runtime.log }), {
  auth,
  hot: runtime.hot,
  durable: runtime.durable,
  audit: createDrizzleAuditStore(runtime.db.db),
});
export const handler = handle(app);
