// drizzle-kit: `npm run db:generate` diffs these tables against drizzle/ and writes the next migration.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: ["./core/cache/matrices.sql.ts", "./core/audit/audit.sql.ts", "./core/warming/warming.sql.ts"],
  out: "./drizzle",
});
