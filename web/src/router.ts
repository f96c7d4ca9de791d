// Routes are real paths under /app/ (nginx answers index.html for them), so a reload or a shared
// address opens the same screen: /app/files/<folder path>, /app/trash, /app/login, /app/signup.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "login" }
  | { name: "signup" }
  | { name: "files"; path: string }
  | { name: "trash" }
  | { name: "shared" }
  | { name: "account" }
  | { name: "admin" };

export function parse(pathname: string): Route {
  if (pathname.startsWith("/app/login")) return { name: "login" };
  if (pathname.startsWith("/app/signup")) return { name: "signup" };
  if (pathname.startsWith("/app/trash")) return { name: "trash" };
  if (pathname.startsWith("/app/shared")) return { name: "shared" };
  if (pathname.startsWith("/app/account")) return { name: "account" };
  if (pathname.startsWith("/app/admin")) return { name: "admin" };
  const match = /^\/app\/files\/?(.*)$/.exec(pathname);
  const path = match ? match[1].split("/").filter(Boolean).map(decodeURIComponent).join("/") : "";
  return { name: "files", path };
}

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  for (const listener of listeners) listener();
}

export function folderUrl(path: string): string {
  const encoded = path
    .split("/")
    .filter(Boolean)
    .map(encodeURIComponent)
    .join("/");
  return `/app/files/${encoded}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parse(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parse(location.pathname));
    listeners.add(update);
    addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      removeEventListener("popstate", update);
    };
  }, []);
  return route;
}

/** A click on an in-app link navigates without reloading (modifier clicks keep their meaning). */
export function linkClick(event: MouseEvent, to: string): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(to);
}
