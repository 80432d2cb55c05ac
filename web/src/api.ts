// The three APIs, found through config.json (written at deploy time from the stack outputs).
// Every failure becomes an ApiError whose `sentence` is safe to show a person.

import type { Tokens, User } from "./types";

export interface AppConfig {
  usersApiUrl: string;
  photosApiUrl: string;
  transactionsApiUrl: string;
  // true where the stack runs the simulated payment provider (local stacks only)
  simulatedPayments: boolean;
}

export type ApiName = "users" | "photos" | "transactions";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** One sentence for people: the API's own message, or a plain description of the failure. */
  get sentence(): string {
    const text = this.message.trim() || "Something went wrong";
    const first = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(first) ? first : first + ".";
  }
}

/** Any thrown value as a sentence (never a stack trace). */
export function describe(err: unknown): string {
  if (err instanceof ApiError) return err.sentence;
  return "Something went wrong in the page. Reload it and try again.";
}

let config: AppConfig | null = null;

export async function loadConfig(): Promise<AppConfig> {
  if (config) return config;
  const response = await fetch("./config.json", { cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, "no_config", "The app has no configuration yet: deploy the stack first");
  config = (await response.json()) as AppConfig;
  return config;
}

function baseUrl(api: ApiName): string {
  if (!config) throw new ApiError(0, "no_config", "The app is not configured");
  return { users: config.usersApiUrl, photos: config.photosApiUrl, transactions: config.transactionsApiUrl }[api];
}

// ---- session -------------------------------------------------------------------------
// Kept in localStorage so a reload (and a resumed upload) keeps the person signed in.
const SESSION_KEY = "photostack.session";

export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresAt: number; // ms since epoch
  user: User;
}

type Listener = (session: Session | null) => void;
const listeners = new Set<Listener>();
let session: Session | null = readSession();

function readSession(): Session | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function currentSession(): Session | null {
  return session;
}

export function onSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setSession(next: Session | null): void {
  session = next;
  if (next) localStorage.setItem(SESSION_KEY, JSON.stringify(next));
  else localStorage.removeItem(SESSION_KEY);
  listeners.forEach((l) => l(next));
}

function fromTokens(tokens: Tokens): Session {
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
    user: tokens.user,
  };
}

// ---- requests ------------------------------------------------------------------------
export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  auth?: boolean; // default true
  query?: Record<string, string | number | undefined | null>;
}

async function send(api: ApiName, method: string, path: string, opts: RequestOptions, token: string | null): Promise<Response> {
  const url = new URL(baseUrl(api) + path, location.href);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { Accept: "application/json", ...(opts.headers ?? {}) };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  } catch {
    throw new ApiError(0, "unreachable", "Could not reach photostack. Check your connection and try again");
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  let code = "http_" + response.status;
  let message = "";
  let details: Record<string, unknown> = {};
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? "";
    details = body.error?.details ?? {};
  } catch {
    // not JSON: fall through to the generic sentence
  }
  if (!message) {
    message =
      response.status >= 500
        ? "photostack is having trouble right now. Try again in a moment"
        : response.status === 404
          ? "That was not found"
          : `The request was refused (${response.status})`;
  }
  return new ApiError(response.status, code, message, details);
}

let refreshing: Promise<Session | null> | null = null;

/** A new access token from the refresh token (one refresh at a time; refresh tokens are single-use). */
export function refresh(): Promise<Session | null> {
  const current = session;
  if (!current) return Promise.resolve(null);
  refreshing ??= (async () => {
    try {
      const response = await send("users", "POST", "/auth/refresh", { body: { refresh_token: current.refreshToken } }, null);
      if (response.status === 400 || response.status === 401) {
        // The server refused this refresh token for good (expired, revoked, reused): signed out.
        setSession(null);
        return null;
      }
      // Anything else (a throttled or failing server) says nothing about the session: keep it,
      // and fail only this request, so a passing hiccup does not sign the person out.
      if (!response.ok) throw await errorOf(response);
      const next = fromTokens((await response.json()) as Tokens);
      setSession(next);
      return next;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export async function request<T>(api: ApiName, method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const auth = opts.auth ?? true;
  let token: string | null = null;
  if (auth) {
    let s = session;
    if (s && s.expiresAt - Date.now() < 30_000) s = await refresh();
    if (!s) throw new ApiError(401, "signed_out", "Sign in to continue");
    token = s.accessToken;
  }
  let response = await send(api, method, path, opts, token);
  if (auth && response.status === 401) {
    // The token may have been rotated or revoked since: refresh once and retry.
    const s = await refresh();
    if (!s) throw new ApiError(401, "signed_out", "Your session has ended. Sign in again");
    response = await send(api, method, path, opts, s.accessToken);
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

// ---- auth ------------------------------------------------------------------------------
export async function signIn(email: string, password: string): Promise<Session> {
  const tokens = await request<Tokens>("users", "POST", "/auth/login", { body: { email, password }, auth: false });
  const next = fromTokens(tokens);
  setSession(next);
  return next;
}

export async function signUp(email: string, password: string, displayName: string, role: "customer" | "photographer"): Promise<Session> {
  await request<User>("users", "POST", "/auth/register", {
    body: { email, password, display_name: displayName, role },
    auth: false,
  });
  return signIn(email, password);
}

export async function signOut(): Promise<void> {
  const current = session;
  setSession(null);
  if (!current) return;
  try {
    await request<void>("users", "POST", "/auth/logout", { body: { refresh_token: current.refreshToken }, auth: false });
  } catch {
    // signed out locally either way; the refresh token expires on its own
  }
}

/** A fresh Idempotency-Key for one user action (reused when that action is retried). */
export function newKey(prefix: string): string {
  return `${prefix}:${crypto.randomUUID()}`;
}
