-- Keeps matrix_storage_totals exact: a row contributes (1, size_bytes) to its fund while complete.
-- Statement-level triggers with transition tables: one aggregated upsert per statement, so invalidating
-- 10,000 rows costs one totals update, not 10,000. They run in the writing transaction, so totals and
-- rows never disagree. (Transition tables cannot be combined with an UPDATE OF column list, hence
-- three triggers and the HAVING that skips statements which changed no contribution.)
CREATE OR REPLACE FUNCTION matrix_storage_totals_apply() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO matrix_storage_totals AS t (fund_id, entries, bytes)
      SELECT fund_id, count(*), sum(size_bytes) FROM new_rows WHERE status = 'complete' GROUP BY fund_id
      ON CONFLICT (fund_id) DO UPDATE SET entries = t.entries + EXCLUDED.entries, bytes = t.bytes + EXCLUDED.bytes;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO matrix_storage_totals AS t (fund_id, entries, bytes)
      SELECT fund_id, -count(*), -sum(size_bytes) FROM old_rows WHERE status = 'complete' GROUP BY fund_id
      ON CONFLICT (fund_id) DO UPDATE SET entries = t.entries + EXCLUDED.entries, bytes = t.bytes + EXCLUDED.bytes;
  ELSE
    INSERT INTO matrix_storage_totals AS t (fund_id, entries, bytes)
      SELECT fund_id, sum(d_entries), sum(d_bytes) FROM (
        SELECT fund_id, -1 AS d_entries, -size_bytes AS d_bytes FROM old_rows WHERE status = 'complete'
        UNION ALL
        SELECT fund_id, 1, size_bytes FROM new_rows WHERE status = 'complete'
      ) AS delta
      GROUP BY fund_id
      HAVING sum(d_entries) <> 0 OR sum(d_bytes) <> 0
      ON CONFLICT (fund_id) DO UPDATE SET entries = t.entries + EXCLUDED.entries, bytes = t.bytes + EXCLUDED.bytes;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER scenario_matrices_storage_totals_insert AFTER INSERT ON scenario_matrices
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION matrix_storage_totals_apply();
--> statement-breakpoint
CREATE TRIGGER scenario_matrices_storage_totals_update AFTER UPDATE ON scenario_matrices
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION matrix_storage_totals_apply();
--> statement-breakpoint
CREATE TRIGGER scenario_matrices_storage_totals_delete AFTER DELETE ON scenario_matrices
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION matrix_storage_totals_apply();
--> statement-breakpoint
INSERT INTO matrix_storage_totals (fund_id, entries, bytes)
  SELECT fund_id, count(*), coalesce(sum(size_bytes), 0) FROM scenario_matrices WHERE status = 'complete' GROUP BY fund_id
  ON CONFLICT (fund_id) DO UPDATE SET entries = EXCLUDED.entries, bytes = EXCLUDED.bytes;
