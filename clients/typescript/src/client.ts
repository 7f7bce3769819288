// createIkigaiClient: the typed openapi-fetch client plus sign-in, sign-out and the refresh rules.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./generated/api.js";
import { expectOk, IkigaiProblemError, problemFromResponse, unwrap } from "./problem.js";
import { paginate } from "./paginate.js";
import { openNotificationStream, type NotificationStream, type NotificationStreamOptions } from "./stream.js";

export type User = components["schemas"]["User"];
type TokenPair = components["schemas"]["TokenPair"];

/**
 * What the client keeps between calls. In `body` mode both tokens; in `cookie` mode only the
 * access token (the refresh token is an HttpOnly cookie the page cannot read).
 */
export interface Session {
  accessToken: string;
  refreshToken?: string | undefined;
}

/** Where the session lives. The default keeps it in memory; persist it yourself if you must. */
export interface TokenStore {
  load(): Session | undefined;
  save(session: Session | undefined): void;
}

/** A TokenStore in memory (the right place for an access token in a browser). */
export function memoryTokenStore(initial?: Session): TokenStore {
  let current = initial;
  return {
    load: () => current,
    save: (session) => {
      current = session;
    },
  };
}

export interface IkigaiClientOptions {
  /** The server's origin, e.g. `http://localhost:8080` (paths carry `/api/v1`). */
  baseUrl: string;
  /**
   * `body` (default): the refresh token travels in JSON and is kept in `tokens`.
   * `cookie` (browsers): `X-Ikigai-Refresh: cookie` on sign-in and refresh, the refresh token is
   * an HttpOnly `__Host-` cookie, every request is sent with `credentials: "include"`.
   */
  refreshMode?: "body" | "cookie";
  /** Session storage (default: memory). */
  tokens?: TokenStore;
  /** The fetch to use (default: globalThis.fetch); wrap it to log, count or add a cookie jar. */
  fetch?: (request: Request) => Promise<Response>;
  /** Called once when the session ends on the server's word (revoked, refresh refused). */
  onSessionEnd?: (reason: IkigaiProblemError) => void;
  /** The EventSource constructor for the notification stream (default: globalThis.EventSource). */
  EventSource?: NotificationStreamOptions["EventSource"];
}

/** The answer of `signIn`: signed in, or a second step to complete with a TOTP or recovery code. */
export type SignInResult =
  | { status: "signed_in"; user: User }
  | {
      status: "mfa_required";
      /**
       * Sends a code of the authenticator app (or an unused recovery code) with this step's
       * mfa_token. A wrong code throws 401 `invalid_credentials` (call again with another code);
       * 400 `invalid_token` means the step is spent or expired (sign in with the password again).
       */
      complete(code: string): Promise<User>;
    };

export interface IkigaiClient {
  /** The typed openapi-fetch client: bearer header and refresh on `expired` are automatic. */
  readonly api: Client<paths>;
  /** `POST /auth/login`; throws IkigaiProblemError for 401, 403 (other than mfa_required), 422, 429. */
  signIn(credentials: { login: string; password: string }): Promise<SignInResult>;
  /** Renews the access token now (one request however many callers ask at once). */
  refresh(): Promise<Session | undefined>;
  /**
   * Cookie mode after a page load: a new access token from the refresh cookie. The user when the
   * cookie still names a live session, undefined otherwise (show the sign-in form).
   */
  resume(): Promise<User | undefined>;
  /** `POST /auth/logout` (or `/auth/logout-all` with `{ everywhere: true }`), then forgets the session. */
  signOut(options?: { everywhere?: boolean }): Promise<void>;
  /** True while the client holds an access token. */
  readonly signedIn: boolean;
  /** See `paginate`. */
  paginate: typeof paginate;
  /** Live notifications over server-sent events, reconnecting with a new ticket. */
  streamNotifications(options: Omit<NotificationStreamOptions, "api" | "baseUrl">): NotificationStream;
}

const REFRESH_HEADER = { "X-Ikigai-Refresh": "cookie" } as const;

export function createIkigaiClient(options: IkigaiClientOptions): IkigaiClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const cookieMode = options.refreshMode === "cookie";
  const tokens = options.tokens ?? memoryTokenStore();
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const credentials: RequestCredentials = cookieMode ? "include" : "same-origin";
  // Sign-in and refresh go through a client without the refresh rules (a 401 there is final).
  const plain = createClient<paths>({ baseUrl, fetch: send, credentials });

  function endSession(reason: IkigaiProblemError): void {
    const had = tokens.load() !== undefined;
    tokens.save(undefined);
    if (had) options.onSessionEnd?.(reason);
  }

  function accept(pair: TokenPair): User {
    tokens.save({ accessToken: pair.access_token, refreshToken: cookieMode ? undefined : pair.refresh_token });
    return pair.user;
  }

  async function doRefresh(session: Session): Promise<Session | undefined> {
    let result;
    if (cookieMode) {
      result = await plain.POST("/api/v1/auth/refresh", { params: { header: REFRESH_HEADER } });
    } else if (session.refreshToken !== undefined) {
      result = await plain.POST("/api/v1/auth/refresh", { body: { refresh_token: session.refreshToken } });
    } else {
      return undefined;
    }
    const { data, error, response } = result;
    if (data === undefined) {
      // A refused refresh (401) ends the session; anything else (503, 429) is surfaced as is.
      const problem = new IkigaiProblemError(response.status, error, response.headers);
      if (response.status === 401) endSession(problem);
      throw problem;
    }
    accept(data);
    return tokens.load();
  }

  // Single flight: every caller that saw `expired` for the same access token shares one refresh.
  let inflight: Promise<Session | undefined> | undefined;
  function refreshFor(staleToken: string | undefined): Promise<Session | undefined> {
    const current = tokens.load();
    if (current === undefined && !cookieMode) return Promise.resolve(undefined);
    if (current !== undefined && staleToken !== undefined && current.accessToken !== staleToken) {
      return Promise.resolve(current); // someone refreshed meanwhile: just retry with the new token
    }
    inflight ??= doRefresh(current ?? { accessToken: "" }).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  function withBearer(request: Request, token: string | undefined): Request {
    if (token !== undefined) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  }

  // The fetch behind `api`: adds the bearer token; on 401 `expired` refreshes once and retries;
  // on another 401 reason for a token it sent, forgets the session (the caller gets the 401).
  // A request that carries its own Authorization header is sent as it is.
  async function authedFetch(request: Request): Promise<Response> {
    if (request.headers.has("Authorization")) return send(request);
    const token = tokens.load()?.accessToken;
    const retry = request.clone();
    const response = await send(withBearer(request, token));
    if (response.status !== 401 || token === undefined) return response;
    const problem = await problemFromResponse(response.clone());
    if (problem.reason !== "expired") {
      if (problem.reason === "revoked" || problem.reason === "malformed") endSession(problem);
      return response;
    }
    let renewed: Session | undefined;
    try {
      renewed = await refreshFor(token);
    } catch (refused) {
      if (refused instanceof IkigaiProblemError && refused.status === 401) return response;
      throw refused;
    }
    if (renewed === undefined) return response;
    return send(withBearer(retry, renewed.accessToken));
  }

  const api = createClient<paths>({ baseUrl, fetch: authedFetch, credentials });

  return {
    api,
    paginate,
    get signedIn() {
      return tokens.load() !== undefined;
    },

    async signIn({ login, password }) {
      const { data, error, response } = await plain.POST("/api/v1/auth/login", {
        body: { login, password },
        params: { header: cookieMode ? REFRESH_HEADER : {} },
      });
      if (data !== undefined) return { status: "signed_in", user: accept(data) };
      const problem = new IkigaiProblemError(response.status, error, response.headers);
      const mfaToken = problem.code === "mfa_required" ? problem.extension("mfa_token") : undefined;
      if (mfaToken === undefined) throw problem;
      return {
        status: "mfa_required",
        complete: async (code: string) =>
          accept(
            await unwrap(
              plain.POST("/api/v1/auth/login/mfa", {
                body: { mfa_token: mfaToken, code },
                params: { header: cookieMode ? REFRESH_HEADER : {} },
              }),
            ),
          ),
      };
    },

    refresh: () => refreshFor(undefined),

    async resume() {
      try {
        if ((await refreshFor(undefined)) === undefined) return undefined;
      } catch (refused) {
        if (refused instanceof IkigaiProblemError && refused.status === 401) return undefined;
        throw refused;
      }
      return unwrap(api.GET("/api/v1/me"));
    },

    async signOut({ everywhere = false } = {}) {
      try {
        await expectOk(api.POST(everywhere ? "/api/v1/auth/logout-all" : "/api/v1/auth/logout"));
      } catch (refused) {
        // A session the server already ended is signed out all the same.
        if (!(refused instanceof IkigaiProblemError && refused.status === 401)) throw refused;
      } finally {
        tokens.save(undefined);
      }
    },

    streamNotifications(streamOptions) {
      return openNotificationStream({
        EventSource: options.EventSource,
        ...streamOptions,
        api,
        baseUrl,
      });
    },
  };
}
