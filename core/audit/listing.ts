// GET /api/cache/audit: the query, the opaque cursor and the page, over the AuditStore port.
import { z } from "zod";
import { Id } from "../scenario";
import { AuditEntry, type AuditPosition, type AuditStore } from "./ports";

/** Page size when none is asked for, and the largest one served (a page is one indexed SELECT). */
export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;
/** Offsets beyond this are refused: deep offsets scan every skipped row; the cursor does not. */
export const AUDIT_OFFSET_MAX = 10_000;

const EXACT_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The cursor is the last entry's position, base64url JSON: opaque to clients, checkable here. */
export function encodeAuditCursor(p: AuditPosition): string {
  return Buffer.from(JSON.stringify([p.at, p.id]), "utf8").toString("base64url");
}

/** The position a cursor names, or null for anything this listing did not hand out. */
export function decodeAuditCursor(cursor: string): AuditPosition | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return null;
  const [at, id] = parsed as unknown[];
  if (typeof at !== "string" || typeof id !== "string" || !EXACT_UTC.test(at) || !UUID.test(id)) return null;
  // a well-formed but impossible instant (Feb 30) would make PostgreSQL's cast fail with a 500
  const ms = Date.parse(at.slice(0, 23) + "Z");
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 23) !== at.slice(0, 23)) return null;
  return { at, id };
}

/**
 * Query of the audit listing. Strict: a misspelt filter (`fund=`) is a 400, not a silently unfiltered
 * listing. `cursor` continues a listing; `offset` jumps into it; not both.
 */
export const AuditListQuery = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(AUDIT_PAGE_DEFAULT),
    cursor: z
      .string()
      .max(512)
      .transform((s, ctx) => {
        const p = decodeAuditCursor(s);
        if (p === null) {
          ctx.addIssue({ code: "custom", message: "is not a cursor returned by this listing" });
          return z.NEVER;
        }
        return p;
      })
      .optional(),
    offset: z.coerce.number().int().min(0).max(AUDIT_OFFSET_MAX).optional(),
    fundId: Id.optional(),
    action: z
      .string()
      .regex(/^[a-z][a-z-]{0,31}$/, "must be an action name such as 'invalidate'")
      .optional(),
  })
  .superRefine((q, ctx) => {
    if (q.cursor !== undefined && q.offset !== undefined) {
      ctx.addIssue({ code: "custom", path: ["offset"], message: "give either cursor or offset, not both" });
    }
  });
export type AuditListQuery = z.output<typeof AuditListQuery>;

/** One page of the trail; `nextCursor` continues it. */
export const AuditListResponse = z.object({
  entries: z.array(AuditEntry),
  /** pass as `cursor` for the next page; null on the last page */
  nextCursor: z.string().nullable(),
  limit: z.number().int(),
});
export type AuditListResponse = z.output<typeof AuditListResponse>;

/** One page of the trail, newest first. */
export async function listAudit(store: Pick<AuditStore, "list">, q: AuditListQuery): Promise<AuditListResponse> {
  const page = await store.list({ limit: q.limit, after: q.cursor, offset: q.offset, fundId: q.fundId, action: q.action });
  return { entries: page.entries, nextCursor: page.next ? encodeAuditCursor(page.next) : null, limit: q.limit };
}
