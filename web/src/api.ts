// The API client: every call goes through `api()`, which turns any failure into an ApiError whose
// message a person can read (the API's `error.message`, never "[object Object]"), retries what is
// safe to retry while the network or a service is away, and sends a 401 back to the login screen.

export interface FileInfo {
  id: string;
  type: "file";
  owner: string;
  path: string;
  filename: string;
  size: number;
  content_type: string;
  sha256: string;
  created_at: string;
  updated_at: string;
}

export interface FolderInfo {
  id: string;
  type: "folder";
  owner: string;
  path: string;
  name: string;
  created_at: string;
  updated_at: string;
  item_count: number;
  total_size: number;
}

export type NodeInfo = FileInfo | FolderInfo;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface UserInfo {
  username: string;
  used_bytes: number;
  quota_bytes: number | null;
  file_count: number;
}

export interface TrashEntry {
  id: string;
  type: "file" | "folder";
  path: string;
  size: number;
  deleted_at: string;
}

export interface Version {
  version: number;
  size: number;
  sha256: string;
  created_at: string;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = "liftbit.token";
const USER_KEY = "liftbit.user";

// sessionStorage: survives a reload of this tab, not shared with other tabs, gone when the tab closes.
export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get user(): string | null {
    return sessionStorage.getItem(USER_KEY);
  },
  set(token: string, user: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, user);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

// Listeners the app registers: the banner saying the connection is away, and the redirect to login.
type Status = { offline: string | null };
const statusListeners = new Set<(status: Status) => void>();
export function onStatus(listener: (status: Status) => void): () => void {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}
function announce(offline: string | null): void {
  for (const listener of statusListeners) listener({ offline });
}
let unauthorizedHandler: () => void = () => undefined;
export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler;
}

/** A readable message from any error body the API (or nginx in front of it) sends. */
export function messageOf(body: unknown, status: number): { message: string; code: string } {
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    const error = record.error;
    if (error && typeof error === "object") {
      const inner = error as Record<string, unknown>;
      if (typeof inner.message === "string") return { message: inner.message, code: String(inner.code ?? status) };
    }
    if (typeof record.error_description === "string") {
      return { message: record.error_description, code: typeof error === "string" ? error : String(status) };
    }
    if (typeof record.message === "string") return { message: record.message, code: String(status) };
    if (typeof record.detail === "string") return { message: record.detail, code: String(status) };
  }
  return { message: `the server answered ${status}`, code: String(status) };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 8000, 8000, 8000];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Call {
  method?: string;
  body?: unknown;
  form?: URLSearchParams;
  auth?: boolean; // default true
  retry?: boolean; // default: for GET/HEAD
}

export async function api<T>(path: string, call: Call = {}): Promise<T> {
  const method = call.method ?? "GET";
  const retry = call.retry ?? (method === "GET" || method === "HEAD");
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = session.token;
  if (call.auth !== false && token) headers.Authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (call.form) body = call.form;
  else if (call.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(call.body);
  }
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body, credentials: "same-origin" });
    } catch {
      if (!retry || attempt >= RETRY_DELAYS_MS.length) {
        announce(null);
        throw new ApiError("LiftBit cannot be reached: check your connection and try again", 0, "network");
      }
      announce("Connection lost: retrying…");
      await sleep(RETRY_DELAYS_MS[attempt]);
      continue;
    }
    if (response.status === 503 && retry && attempt < RETRY_DELAYS_MS.length) {
      announce("LiftBit is briefly unavailable: retrying…");
      await sleep(RETRY_DELAYS_MS[attempt]);
      continue;
    }
    announce(null);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const { message, code } = messageOf(parsed, response.status);
      if (response.status === 401 && call.auth !== false) unauthorizedHandler();
      throw new ApiError(message, response.status, code);
    }
    return parsed as T;
  }
}

/** Each segment encoded on its own: folders stay folders, any other character is safe. */
export function encodePath(path: string): string {
  return path
    .split("/")
    .filter((segment) => segment !== "")
    .map(encodeURIComponent)
    .join("/");
}

export function fileUrl(owner: string, path: string): string {
  return `/users/${encodeURIComponent(owner)}/files/${encodePath(path)}`;
}

export async function login(username: string, password: string): Promise<void> {
  const form = new URLSearchParams({ username, password, grant_type: "password" });
  const issued = await api<{ access_token: string }>("/auth/token", { method: "POST", form, auth: false });
  session.set(issued.access_token, username);
  // The download cookie: lets <a href download> and previews fetch bytes without a bearer header.
  await api<void>("/auth/session", { method: "POST" });
}

export async function logout(): Promise<void> {
  try {
    await api<void>("/auth/session", { method: "DELETE" });
    await api<void>("/auth/logout", { method: "POST" });
  } finally {
    session.clear();
  }
}

/** Every entry of a folder: one call for folders up to 1,000 entries (the API's largest page). */
export async function listFolder(owner: string, path: string, onPage: (items: NodeInfo[]) => void): Promise<void> {
  const base = path ? `/users/${encodeURIComponent(owner)}/folders/${encodePath(path)}` : `/users/${encodeURIComponent(owner)}/folders`;
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: "1000" });
    if (cursor) query.set("cursor", cursor);
    const page: Page<NodeInfo> = await api<Page<NodeInfo>>(`${base}?${query}`);
    onPage(page.items);
    cursor = page.next_cursor;
  } while (cursor);
}

export function asList<T>(answer: T[] | Page<T>): T[] {
  return Array.isArray(answer) ? answer : answer.items;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

// One formatter for every row: toLocaleString() builds a new one per call, which made scrolling a
// large folder slow (each frame formats the dates of every row it brings into view).
const DATES = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatDate(iso: string): string {
  return DATES.format(new Date(iso));
}
