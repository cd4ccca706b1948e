CREATE TABLE "matrix_storage_totals" (
	"fund_id" text PRIMARY KEY NOT NULL,
	"entries" bigint DEFAULT 0 NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL
);
