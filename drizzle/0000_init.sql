CREATE TYPE "public"."matrix_status" AS ENUM('pending', 'processing', 'complete', 'failed', 'invalidated');--> statement-breakpoint
CREATE TYPE "public"."warm_job_status" AS ENUM('pending', 'processing', 'complete', 'failed');--> statement-breakpoint
CREATE TYPE "public"."warm_priority" AS ENUM('high', 'low');--> statement-breakpoint
CREATE TABLE "scenario_matrices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"matrix_key" text NOT NULL,
	"fund_id" text NOT NULL,
	"taxonomy_version" text NOT NULL,
	"config" jsonb NOT NULL,
	"status" "matrix_status" NOT NULL,
	"moic_matrix" "bytea",
	"num_scenarios" integer NOT NULL,
	"num_buckets" integer NOT NULL,
	"size_bytes" bigint DEFAULT 0 NOT NULL,
	"generation_ms" double precision,
	"recycling_multiples" jsonb,
	"error_message" text,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_hit_at" timestamp with time zone,
	CONSTRAINT "scenario_matrices_matrix_key_unique" UNIQUE("matrix_key")
);
--> statement-breakpoint
CREATE TABLE "cache_audit_log" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"scope" text NOT NULL,
	"fund_id" text,
	"matrix_key" text,
	"mode" text,
	"reason" text,
	"dry_run" boolean DEFAULT false NOT NULL,
	"redis_count" integer,
	"postgres_count" integer,
	"duration_ms" double precision NOT NULL,
	"errors" jsonb
);
--> statement-breakpoint
CREATE TABLE "warm_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"matrix_key" text NOT NULL,
	"fund_id" text NOT NULL,
	"taxonomy_version" text NOT NULL,
	"priority" "warm_priority" NOT NULL,
	"status" "warm_job_status" DEFAULT 'pending' NOT NULL,
	"config" jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"requested_by" text NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "warm_profiles" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"fund_id" text NOT NULL,
	"taxonomy_version" text NOT NULL,
	"config" jsonb NOT NULL,
	"priority" "warm_priority" DEFAULT 'low' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "warm_profiles_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE INDEX "scenario_matrices_fund_status_idx" ON "scenario_matrices" USING btree ("fund_id","status");--> statement-breakpoint
CREATE INDEX "scenario_matrices_status_last_hit_idx" ON "scenario_matrices" USING btree ("status","last_hit_at" NULLS FIRST);--> statement-breakpoint
CREATE INDEX "scenario_matrices_status_updated_idx" ON "scenario_matrices" USING btree ("status","updated_at");--> statement-breakpoint
CREATE INDEX "cache_audit_log_created_at_idx" ON "cache_audit_log" USING btree ("created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "cache_audit_log_fund_created_at_idx" ON "cache_audit_log" USING btree ("fund_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE UNIQUE INDEX "warm_jobs_live_matrix_key_uq" ON "warm_jobs" USING btree ("matrix_key") WHERE status IN ('pending', 'processing');--> statement-breakpoint
CREATE INDEX "warm_jobs_status_created_idx" ON "warm_jobs" USING btree ("status","created_at");