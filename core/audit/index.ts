export { AuditAction, AuditEntry, AuditFailure, AuditRecord, type AuditPageQuery, type AuditPosition, type AuditStore } from "./ports";
export {
  AUDIT_OFFSET_MAX,
  AUDIT_PAGE_DEFAULT,
  AUDIT_PAGE_MAX,
  AuditListQuery,
  AuditListResponse,
  decodeAuditCursor,
  encodeAuditCursor,
  listAudit,
} from "./listing";
