// Typed errors: every failed answer becomes a GxError carrying the ErrorInfo reason, never a bare object.

/** One entry of a google.rpc.BadRequest: which request field was wrong and why. */
export interface FieldViolation {
  field: string;
  description: string;
}

const CODE_NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
] as const;

/** A call failed: `status` is the HTTP status, `code` the gRPC code name, `reason` the ErrorInfo reason. */
export class GxError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly reason: string,
    readonly domain: string = "",
    readonly metadata: Record<string, string> = {},
    readonly violations: FieldViolation[] = [],
  ) {
    super(`${code}: ${reason || "-"}: ${message}`);
    this.name = "GxError";
  }

  /** A GxError from an HTTP status and the google.rpc.Status JSON body the edge answers. */
  static fromStatus(status: number, body: unknown): GxError {
    const shape = (body ?? {}) as { code?: number; message?: string; details?: Array<Record<string, unknown>> };
    let reason = "";
    let domain = "";
    let metadata: Record<string, string> = {};
    const violations: FieldViolation[] = [];
    for (const detail of shape.details ?? []) {
      const type = String(detail["@type"] ?? "");
      if (type.endsWith("google.rpc.ErrorInfo")) {
        reason = String(detail.reason ?? "");
        domain = String(detail.domain ?? "");
        metadata = (detail.metadata as Record<string, string> | undefined) ?? {};
      } else if (type.endsWith("google.rpc.BadRequest")) {
        for (const v of (detail.fieldViolations as FieldViolation[] | undefined) ?? []) {
          violations.push({ field: String(v.field), description: String(v.description ?? "") });
        }
      }
    }
    const code = CODE_NAMES[shape.code ?? 2] ?? "UNKNOWN";
    return new GxError(shape.message ?? `HTTP ${status}`, status, code, reason, domain, metadata, violations);
  }
}

/** A ledger operation ended FAILED; `reason` is the operation's error reason. */
export class OperationFailed extends GxError {
  constructor(readonly operation: { name?: string; error?: { code?: number; message?: string; reason?: string } }) {
    const error = operation.error ?? {};
    super(error.message ?? "operation failed", 200, CODE_NAMES[error.code ?? 2] ?? "UNKNOWN", error.reason ?? "");
    this.name = "OperationFailed";
  }
}
