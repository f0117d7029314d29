// Login and refresh handled for the app: one access token kept fresh and shared by every call.

/** What /v1/auth:login and /v1/auth:refresh answer. */
export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

// Renew this long before expiry, so a request in flight does not carry a token that lapses on the way.
const SKEW_MS = 30_000;

export class Session {
  private credentials?: { email: string; password: string };
  private access?: string;
  private refresh?: string;
  private expiresAt: number;
  private renewing?: Promise<void>;

  constructor(
    private readonly login: (email: string, password: string) => Promise<Tokens>,
    private readonly refreshWith: (refreshToken: string) => Promise<Tokens>,
    init: { email?: string; password?: string; accessToken?: string; refreshToken?: string } = {},
  ) {
    if (init.email && init.password) this.credentials = { email: init.email, password: init.password };
    this.access = init.accessToken;
    this.refresh = init.refreshToken;
    // A given token's lifetime is unknown: use it until the server refuses it.
    this.expiresAt = init.accessToken ? Number.POSITIVE_INFINITY : 0;
  }

  /** The current refresh token (for logout). */
  get refreshToken(): string | undefined {
    return this.refresh;
  }

  /** Keep these credentials (for later renewals too) and log in now. */
  async logIn(email: string, password: string): Promise<void> {
    this.credentials = { email, password };
    this.store(await this.login(email, password));
  }

  /** A fresh access token; with `renew`, log in or refresh when there is none. */
  async token(renew: boolean): Promise<string | undefined> {
    if (this.access && Date.now() < this.expiresAt - SKEW_MS) return this.access;
    if (!renew) return undefined;
    // Concurrent requests share one renewal.
    this.renewing ??= this.renew().finally(() => {
      this.renewing = undefined;
    });
    await this.renewing;
    return this.access;
  }

  /** The server refused `token`: forget it; true when the session can get another. */
  reject(token: string): boolean {
    if (this.access === token) {
      this.access = undefined;
      this.expiresAt = 0;
    }
    return Boolean(this.credentials || this.refresh);
  }

  private async renew(): Promise<void> {
    if (this.refresh) {
      try {
        this.store(await this.refreshWith(this.refresh));
        return;
      } catch {
        // Expired, revoked or rotated away: fall back to the credentials, if any.
        this.refresh = undefined;
      }
    }
    if (this.credentials) this.store(await this.login(this.credentials.email, this.credentials.password));
  }

  private store(tokens: Tokens): void {
    this.access = tokens.accessToken;
    this.refresh = tokens.refreshToken;
    this.expiresAt = Date.now() + tokens.expiresIn * 1000;
  }
}
