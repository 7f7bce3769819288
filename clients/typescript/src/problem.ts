// Typed RFC 9457 problems: every error answer of the API becomes one IkigaiProblemError.
import type { components } from "./generated/api.js";
import { problemCodeValues, problemError_codesValues, problemReasonValues } from "./generated/api.js";

type ProblemSchema = components["schemas"]["Problem"];
/** `code` of a problem: `validation_failed`, `unauthorized`, `mfa_required`, ... (API.md's table). */
export type ProblemCode = ProblemSchema["code"];
/** A 422's `error_codes` value per field: `required`, `too_short`, `taken`, ... (the contract for UI logic). */
export type FieldErrorCode = (typeof problemError_codesValues)[number];
/** A 401's `reason` for an access token: refresh once on `expired`, sign in again otherwise. */
export type UnauthorizedReason = (typeof problemReasonValues)[number];

/** True when `value` is one of `values`: narrows without a cast. */
export function isOneOf<T extends string>(values: ReadonlyArray<T>, value: unknown): value is T {
  return values.some((v) => v === value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * An error answer of the API (or of something in front of it), with the problem's members as
 * the server sent them. Branch on `code`, on a 422's `error_codes`, and on a 401's `reason`;
 * `errors` holds English messages for people and may change.
 */
export class IkigaiProblemError extends Error {
  override readonly name = "IkigaiProblemError";
  /** HTTP status. */
  readonly status: number;
  /** `urn:ikigai:problem:<code>`, or `about:blank` when the body was not a problem. */
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  /** The stable code; undefined only when the body was not one of our problems (a proxy's 502 page). */
  readonly code: ProblemCode | undefined;
  /** Field -> English message (422, 409, a 400 about a query parameter). */
  readonly errors: Readonly<Record<string, string>>;
  /** Field -> machine-readable code, the same keys as `errors`. */
  readonly error_codes: Readonly<Record<string, FieldErrorCode>>;
  /** Why an access token was refused (401 only). */
  readonly reason: UnauthorizedReason | undefined;
  /** `request_id` of the body, else the `X-Request-Id` header: quote it in a bug report. */
  readonly request_id: string | undefined;
  /** Seconds from `Retry-After` (429, 503). */
  readonly retry_after: number | undefined;
  /** The parsed body as received, for extension members (`mfa_token`). */
  readonly body: unknown;

  constructor(status: number, body: unknown, headers?: Headers) {
    const problem = isRecord(body) ? body : {};
    const title = text(problem.title) ?? `HTTP ${status}`;
    const detail = text(problem.detail) ?? (typeof body === "string" ? body.slice(0, 200) : "");
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.type = text(problem.type) ?? "about:blank";
    this.title = title;
    this.detail = detail;
    this.code = isOneOf(problemCodeValues, problem.code) ? problem.code : undefined;
    const errors: Record<string, string> = {};
    const codes: Record<string, FieldErrorCode> = {};
    if (isRecord(problem.errors)) {
      for (const [field, message] of Object.entries(problem.errors)) {
        if (typeof message === "string") errors[field] = message;
      }
    }
    if (isRecord(problem.error_codes)) {
      for (const [field, code] of Object.entries(problem.error_codes)) {
        if (isOneOf(problemError_codesValues, code)) codes[field] = code;
      }
    }
    this.errors = errors;
    this.error_codes = codes;
    this.reason = isOneOf(problemReasonValues, problem.reason) ? problem.reason : undefined;
    this.request_id = text(problem.request_id) ?? headers?.get("X-Request-Id") ?? undefined;
    const retry = Number.parseInt(headers?.get("Retry-After") ?? "", 10);
    this.retry_after = Number.isFinite(retry) ? retry : undefined;
    this.body = body;
  }

  /** An extension member of the problem that is a string (`mfa_token`), if present. */
  extension(name: string): string | undefined {
    return isRecord(this.body) ? text(this.body[name]) : undefined;
  }
}

/** Type guard: `catch (e) { if (isIkigaiProblemError(e) && e.code === "validation_failed") ... }`. */
export function isIkigaiProblemError(value: unknown): value is IkigaiProblemError {
  return value instanceof IkigaiProblemError;
}

/** Reads a non-2xx response into a problem (the response body is consumed). */
export async function problemFromResponse(response: Response): Promise<IkigaiProblemError> {
  const raw = await response.text();
  let body: unknown = raw;
  try {
    body = raw ? JSON.parse(raw) : undefined;
  } catch {
    // not JSON: keep the text (a proxy's error page)
  }
  return new IkigaiProblemError(response.status, body, response.headers);
}

/** What every openapi-fetch call resolves to: data on success, the parsed error body otherwise. */
export interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The data of a typed call, or an IkigaiProblemError thrown for its error answer:
 * `const task = await unwrap(client.api.POST("/api/v1/tasks", { body }))`.
 */
export async function unwrap<T>(pending: Promise<FetchResult<T>>): Promise<T> {
  const { data, error, response } = await pending;
  if (response.ok && data !== undefined) return data;
  throw new IkigaiProblemError(response.status, error, response.headers);
}

/** For routes that answer 204 (no body): resolves, or throws an IkigaiProblemError. */
export async function expectOk(pending: Promise<FetchResult<unknown>>): Promise<void> {
  const { error, response } = await pending;
  if (!response.ok) throw new IkigaiProblemError(response.status, error, response.headers);
}

export type { ProblemSchema };
