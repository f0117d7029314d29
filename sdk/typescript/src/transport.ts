// The fetch every SDK request goes through: credentials, request ids, retries with backoff on 503.
import { GxError } from "./errors.js";
import { IDEMPOTENT_OPERATIONS, PUBLIC_OPERATIONS } from "./generated/operations.js";
import type { Session } from "./session.js";

/** gRPC's retryPolicy, as the protos' service configs give it: attempts in all, exponential backoff. */
export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 2000, multiplier: 2 };

interface Route {
  method: string;
  pattern: RegExp;
}

function compile(operations: readonly string[]): Route[] {
  return operations.map((entry) => {
    const [method = "", template = ""] = entry.split(" ");
    const escaped = template
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, "\\$&"))
      .join("[^/]+");
    return { method, pattern: new RegExp(`^${escaped}$`) };
  });
}

const IDEMPOTENT = compile(IDEMPOTENT_OPERATIONS);
const PUBLIC = compile(PUBLIC_OPERATIONS);

function matches(routes: Route[], method: string, path: string): boolean {
  return routes.some((r) => r.method === method && r.pattern.test(path));
}

export interface TransportOptions {
  session?: Session;
  apiKey?: string;
  fetch: typeof fetch;
  retry: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A fetch for openapi-fetch. Reads (GET) and request-id-protected writes are retried on 503 and on
 * network failures; a write's `requestId` is filled (when empty) once, before the first attempt,
 * so every retry carries the same id and the server applies it once. A 401 on a token the session
 * can renew is retried once with a fresh one.
 */
export function transport(options: TransportOptions): (input: Request) => Promise<Response> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  return async (input: Request): Promise<Response> => {
    const method = input.method.toUpperCase();
    const path = decodeURIComponent(new URL(input.url).pathname);
    const idempotent = matches(IDEMPOTENT, method, path);
    let body = method === "GET" || method === "HEAD" ? undefined : await input.text();
    if (idempotent && body) {
      const json = JSON.parse(body) as Record<string, unknown>;
      if (!json.requestId && !input.headers.has("idempotency-key")) {
        json.requestId = crypto.randomUUID();
        body = JSON.stringify(json);
      }
    }
    const retryable = method === "GET" || idempotent;
    const needsToken = !matches(PUBLIC, method, path);
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      const token = options.session ? await options.session.token(needsToken) : undefined;
      const headers = new Headers(input.headers);
      if (token) headers.set("authorization", `Bearer ${token}`);
      if (options.apiKey) headers.set("x-api-key", options.apiKey);
      let response: Response | undefined;
      let failure: unknown;
      try {
        response = await options.fetch(new Request(input.url, { method, headers, body, signal: input.signal }));
      } catch (error) {
        failure = error;
      }
      if (response?.status === 401 && token && !renewed && options.session?.reject(token)) {
        renewed = true;
        attempt--;
        continue;
      }
      const unavailable = failure !== undefined || response?.status === 503;
      if (unavailable && retryable && attempt < options.retry.maxAttempts) {
        const ceiling = Math.min(
          options.retry.initialBackoffMs * options.retry.multiplier ** (attempt - 1),
          options.retry.maxBackoffMs,
        );
        await sleep(Math.random() * ceiling);
        continue;
      }
      if (response === undefined) throw new GxError(String(failure), 0, "UNAVAILABLE", "");
      return response;
    }
  };
}
