// GxClient: the typed REST client generated from the OpenAPI document, with the conveniences built in.
import createClient, { type Client } from "openapi-fetch";

import { GxError, OperationFailed } from "./errors.js";
import type { components, paths } from "./generated/schema.js";
import { Session, type Tokens } from "./session.js";
import { DEFAULT_RETRY, type RetryPolicy, transport } from "./transport.js";

export type Schemas = components["schemas"];
export type OperationProto = Schemas["gx.type.v1.Operation"];
export type User = Schemas["gx.identity.v1.User"];
export type Wallet = Schemas["gx.wallet.v1.Wallet"];
export type Transaction = Schemas["gx.wallet.v1.Transaction"];

/** Money is int Qirat; over JSON it travels as a decimal string (proto3 int64). */
export type Qirat = bigint | number | string;

export interface GxClientOptions {
  /** The edge, e.g. http://127.0.0.1:8080 (the dev stack's, the default). */
  baseUrl?: string;
  /** With `password`: log in on the first call that needs a token, and again when refresh no longer works. */
  email?: string;
  password?: string;
  /** A token obtained elsewhere (used until the server refuses it). */
  accessToken?: string;
  /** Renews the access token. */
  refreshToken?: string;
  /** A partner's key, sent as X-API-Key on every request. */
  apiKey?: string;
  /** The fetch to use (the global one by default). */
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
}

/** The answer of an openapi-fetch call: the data, or a GxError thrown with the status body's reason. */
async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) throw GxError.fromStatus(response.status, error);
  return data;
}

/** A ledger command in flight, with `wait()`. */
export class Operation {
  constructor(
    public proto: OperationProto,
    private readonly api: Client<paths>,
  ) {}

  get id(): string {
    return (this.proto.name ?? "").replace(/^operations\//, "");
  }

  get done(): boolean {
    return Boolean(this.proto.done);
  }

  /** Read the current state once. */
  async refresh(): Promise<Operation> {
    this.proto = await unwrap(
      this.api.GET("/v1/operations/{operationId}", { params: { path: { operationId: this.id } } }),
    );
    return this;
  }

  /** Long-poll until done; throws OperationFailed (with the reason) when it failed. */
  async wait(timeoutMs = 120_000): Promise<OperationProto> {
    const deadline = Date.now() + timeoutMs;
    while (!this.proto.done) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new GxError(`operation ${this.id} not done in ${timeoutMs} ms`, 0, "DEADLINE_EXCEEDED", "OPERATION_WAIT_TIMEOUT");
      }
      // Short waits, well under the edge's route timeout.
      const seconds = Math.max(1, Math.min(5, Math.floor(left / 1000)));
      this.proto = await unwrap(
        this.api.POST("/v1/operations/{operationId}:wait", {
          params: { path: { operationId: this.id } },
          body: { timeout: `${seconds}s` },
        }),
      );
    }
    if (this.proto.state === "OPERATION_STATE_FAILED") throw new OperationFailed(this.proto);
    return this.proto;
  }
}

export class GxClient {
  /** The generated, typed client: every path of the document, with this client's conveniences underneath. */
  readonly api: Client<paths>;
  readonly session: Session;

  constructor(options: GxClientOptions = {}) {
    const baseUrl = (options.baseUrl ?? "http://127.0.0.1:8080").replace(/\/$/, "");
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    const base = options.fetch ?? globalThis.fetch.bind(globalThis);
    // Login and refresh go through a client without the session, so renewing never recurses.
    const tokens = createClient<paths>({ baseUrl, fetch: transport({ fetch: base, retry, apiKey: options.apiKey }) });
    const asTokens = (t: { accessToken?: string; refreshToken?: string; expiresIn?: number }): Tokens => ({
      accessToken: t.accessToken ?? "",
      refreshToken: t.refreshToken ?? "",
      expiresIn: t.expiresIn ?? 0,
    });
    this.session = new Session(
      async (email, password) => asTokens(await unwrap(tokens.POST("/v1/auth:login", { body: { email, password } }))),
      async (refreshToken) => asTokens(await unwrap(tokens.POST("/v1/auth:refresh", { body: { refreshToken } }))),
      options,
    );
    this.api = createClient<paths>({
      baseUrl,
      fetch: transport({ fetch: base, retry, apiKey: options.apiKey, session: this.session }),
    });
  }

  /** Log in now; the credentials are kept to log in again when the refresh token lapses. */
  login(email: string, password: string): Promise<void> {
    return this.session.logIn(email, password);
  }

  /** Register a user (no token needed). */
  async register(user: { email: string; password: string; countryCode: string; displayName?: string }): Promise<User> {
    const got = await unwrap(this.api.POST("/v1/users:register", { body: { requestId: "", ...user } }));
    return got.user as User;
  }

  /** The caller's user. */
  async me(): Promise<User> {
    return (await unwrap(this.api.GET("/v1/users/{userId}", { params: { path: { userId: "me" } } }))).user as User;
  }

  /** Confirm the caller's email with the code of the verification mail (KYC needs it). */
  async verifyEmail(code: string): Promise<User> {
    const got = await unwrap(
      this.api.POST("/v1/users/{userId}:verifyEmail", { params: { path: { userId: "me" } }, body: { requestId: "", code } }),
    );
    return got.user as User;
  }

  /** Ask for a password reset mail (no token needed); the answer never tells whether the email exists. */
  async requestPasswordReset(email: string): Promise<void> {
    await unwrap(this.api.POST("/v1/auth:requestPasswordReset", { body: { email } }));
  }

  /** Set a new password with the reset mail's token (no token needed); every session ends. */
  async resetPassword(token: string, newPassword: string): Promise<void> {
    await unwrap(this.api.POST("/v1/auth:resetPassword", { body: { token, newPassword } }));
  }

  /** A wallet (the caller's by default); `balanceQirat` is a decimal string. */
  async wallet(walletId = "me"): Promise<Wallet> {
    const got = await unwrap(this.api.GET("/v1/wallets/{walletId}", { params: { path: { walletId } } }));
    return got.wallet as Wallet;
  }

  /** Send `amountQirat` (before the fee); `await (await gx.transfer(...)).wait()`. */
  async transfer(t: {
    amountQirat: Qirat;
    toUserId?: string;
    toWalletId?: string;
    remark?: string;
    walletId?: string;
    requestId?: string;
  }): Promise<Operation> {
    if (Boolean(t.toUserId) === Boolean(t.toWalletId)) throw new TypeError("give exactly one of toUserId and toWalletId");
    const body = {
      requestId: t.requestId ?? "",
      amountQirat: String(t.amountQirat),
      ...(t.toUserId ? { toUserId: t.toUserId } : { toWalletId: t.toWalletId }),
      ...(t.remark ? { remark: t.remark } : {}),
    };
    const proto = await unwrap(
      this.api.POST("/v1/wallets/{walletId}:transfer", { params: { path: { walletId: t.walletId ?? "me" } }, body }),
    );
    return new Operation(proto, this.api);
  }

  /** Approve a user's KYC (admins); the operation creates the user on the ledger. */
  async approveKyc(userId: string, requestId = ""): Promise<Operation> {
    const proto = await unwrap(
      this.api.POST("/v1/users/{userId}/kyc:approve", { params: { path: { userId } }, body: { requestId } }),
    );
    return new Operation(proto, this.api);
  }

  /** A handle on an Operation an answer carried (or on its id). */
  async operation(answer: OperationProto | string): Promise<Operation> {
    if (typeof answer !== "string") return new Operation(answer, this.api);
    return new Operation({ name: `operations/${answer.replace(/^operations\//, "")}` }, this.api).refresh();
  }

  /** Every entry of a wallet's history, newest first, fetched page by page. */
  transactions(walletId = "me", pageSize = 50): AsyncGenerator<Transaction> {
    return this.pages(async (pageToken) => {
      const got = await unwrap(
        this.api.GET("/v1/wallets/{walletId}/transactions", {
          params: { path: { walletId }, query: { pageSize, ...(pageToken ? { pageToken } : {}) } },
        }),
      );
      return { items: (got.transactions ?? []) as Transaction[], nextPageToken: got.nextPageToken };
    });
  }

  /** Any List call as one stream: `fetchPage(token)` returns a page's items and the next token. */
  async *pages<T>(fetchPage: (pageToken: string) => Promise<{ items: T[]; nextPageToken?: string }>): AsyncGenerator<T> {
    let token = "";
    do {
      const page = await fetchPage(token);
      yield* page.items;
      token = page.nextPageToken ?? "";
    } while (token);
  }
}
