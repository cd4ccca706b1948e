-- Keeps matrix_storage_totals exact: a row contributes (1, size_bytes) to its fund while complete.
-- Runs in the writing transaction, so totals and rows never disagree (no read-modify-write from the app).
CREATE OR REPLACE FUNCTION matrix_storage_totals_apply() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'complete' THEN
    INSERT INTO matrix_storage_totals AS t (fund_id, entries, bytes) VALUES (OLD.fund_id, -1, -OLD.size_bytes)
      ON CONFLICT (fund_id) DO UPDATE SET entries = t.entries - 1, bytes = t.bytes - OLD.size_bytes;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'complete' THEN
    INSERT INTO matrix_storage_totals AS t (fund_id, entries, bytes) VALUES (NEW.fund_id, 1, NEW.size_bytes)
      ON CONFLICT (fund_id) DO UPDATE SET entries = t.entries + 1, bytes = t.bytes + NEW.size_bytes;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER scenario_matrices_storage_totals
  AFTER INSERT OR DELETE OR UPDATE OF status, size_bytes, fund_id ON scenario_matrices
  FOR EACH ROW EXECUTE FUNCTION matrix_storage_totals_apply();
--> statement-breakpoint
INSERT INTO matrix_storage_totals (fund_id, entries, bytes)
  SELECT fund_id, count(*), coalesce(sum(size_bytes), 0) FROM scenario_matrices WHERE status = 'complete' GROUP BY fund_id
  ON CONFLICT (fund_id) DO UPDATE SET entries = EXCLUDED.entries, bytes = EXCLUDED.bytes;
