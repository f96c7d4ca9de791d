// Resumable uploads with tus-js-client against /uploads/. Its URL storage (localStorage) keeps each
// upload's address under a fingerprint of the file: after a network cut tus retries by itself and
// resumes at the server's offset; after a page reload the same file picked or dropped again resumes
// where it stopped instead of starting over.
import * as tus from "tus-js-client";
import { session } from "./api";

export interface UploadItem {
  id: number;
  path: string;
  size: number;
  sent: number;
  speed: number; // bytes per second, smoothed
  state: "uploading" | "waiting" | "done" | "failed" | "cancelled";
  resumed: boolean; // continued an upload a previous page started
  error?: string;
}

type Listener = (items: UploadItem[]) => void;

// Retries over about two minutes: a network cut or a restarting service is waited out.
const RETRY_DELAYS_MS = [0, 1000, 2000, 3000, 5000, 5000, 10000, 10000, 10000, 15000, 15000, 20000, 20000];
const CHUNK_BYTES = 8 * 1024 * 1024;

// The API builds the upload's Location from the address nginx listens on (e.g. 127.0.0.1), which
// may differ from the name in the address bar (localhost): every tus request goes to this origin.
class SameOriginStack extends tus.DefaultHttpStack {
  createRequest(method: string, url: string) {
    const parsed = new URL(url, location.href);
    return super.createRequest(method, parsed.pathname + parsed.search);
  }
}
const httpStack = new SameOriginStack({});

class UploadQueue {
  private items: UploadItem[] = [];
  private running = new Map<number, tus.Upload>();
  private listeners = new Set<Listener>();
  private nextId = 1;
  finished = new EventTarget();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.items);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    this.items = [...this.items];
    for (const listener of this.listeners) listener(this.items);
  }

  private update(id: number, change: Partial<UploadItem>): void {
    this.items = this.items.map((item) => (item.id === id ? { ...item, ...change } : item));
    for (const listener of this.listeners) listener(this.items);
  }

  add(file: File, path: string): void {
    const id = this.nextId++;
    this.items.push({ id, path, size: file.size, sent: 0, speed: 0, state: "uploading", resumed: false });
    this.emit();
    let lastBytes = 0;
    let lastTime = performance.now();
    const upload = new tus.Upload(file, {
      endpoint: "/uploads/",
      chunkSize: CHUNK_BYTES,
      httpStack,
      retryDelays: RETRY_DELAYS_MS,
      metadata: { filename: path, filetype: file.type || "application/octet-stream" },
      removeFingerprintOnSuccess: true,
      // The fingerprint names the destination too: the same file into two folders is two uploads.
      fingerprint: async (f: File) => ["liftbit", session.user, path, f.size, f.lastModified].join("/"),
      onBeforeRequest: (request) => {
        const token = session.token;
        if (token) request.setHeader("Authorization", `Bearer ${token}`);
      },
      onShouldRetry: (error) => {
        const status = error.originalResponse?.getStatus() ?? 0;
        this.update(id, { state: "waiting", error: status ? `server answered ${status}, retrying` : "connection lost, retrying" });
        return status === 0 || status === 408 || status === 409 || status === 423 || status >= 500;
      },
      onProgress: (sent) => {
        const now = performance.now();
        const elapsed = (now - lastTime) / 1000;
        const item = this.items.find((i) => i.id === id);
        if (elapsed >= 0.25 && item) {
          const instant = (sent - lastBytes) / elapsed;
          const speed = item.speed ? item.speed * 0.6 + instant * 0.4 : instant;
          lastBytes = sent;
          lastTime = now;
          this.update(id, { sent, speed: Math.max(0, speed), state: "uploading", error: undefined });
        } else {
          this.update(id, { sent, state: "uploading", error: undefined });
        }
      },
      onSuccess: () => {
        this.running.delete(id);
        this.update(id, { sent: file.size, state: "done", speed: 0, error: undefined });
        this.finished.dispatchEvent(new Event("done"));
      },
      onError: (error) => {
        this.running.delete(id);
        const response = error instanceof tus.DetailedError ? error.originalResponse : null;
        let message = error.message;
        if (response) {
          try {
            const body = JSON.parse(response.getBody()) as { error?: { message?: string } };
            message = body.error?.message ?? `the server answered ${response.getStatus()}`;
          } catch {
            message = `the server answered ${response.getStatus()}`;
          }
        }
        this.update(id, { state: "failed", error: message });
      },
    });
    this.running.set(id, upload);
    upload.findPreviousUploads().then(
      (previous) => {
        if (previous.length > 0) {
          upload.resumeFromPreviousUpload(previous[0]);
          this.update(id, { resumed: true });
        }
        upload.start();
      },
      () => upload.start(),
    );
  }

  cancel(id: number): void {
    const upload = this.running.get(id);
    this.running.delete(id);
    if (upload) void upload.abort(true).catch(() => undefined);
    this.update(id, { state: "cancelled", speed: 0 });
  }

  clearFinished(): void {
    this.items = this.items.filter((item) => item.state === "uploading" || item.state === "waiting");
    this.emit();
  }
}

export const uploads = new UploadQueue();

/** Files of a drop, whole folders included (their relative paths kept). */
export async function droppedFiles(transfer: DataTransfer): Promise<{ file: File; path: string }[]> {
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(transfer.items)) {
    const entry = item.kind === "file" ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
  }
  if (entries.length === 0) return Array.from(transfer.files).map((file) => ({ file, path: file.name }));
  const found: { file: File; path: string }[] = [];
  async function walk(entry: FileSystemEntry, prefix: string): Promise<void> {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      found.push({ file, path: prefix + entry.name });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries answers in batches (100 in Chromium) until an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  }
  for (const entry of entries) await walk(entry, "");
  return found;
}
