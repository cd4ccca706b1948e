// Lambda: POST /api/monte-carlo/simulate.
import { handle } from "hono/aws-lambda";
import { createApp } from "./http/kernel";
import { simulateRoutes } from "./http/routes/simulate";
import { lambdaContext } from "./shared/lambda";

const { runtime, auth } = await lambdaContext("simulate");
export const app = simulateRoutes(createApp({ auth, log: runtime.log }), { auth, cache: runtime.cache });
export const handler = handle(app);
