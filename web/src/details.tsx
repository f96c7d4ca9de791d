// A file's or folder's details: preview, sharing with users, share links and download statistics.
import { useEffect, useState } from "preact/hooks";
import { api, describeError, fileUrl, formatDate, formatSize, session, type FileInfo, type NodeInfo } from "./api";
import { Dialog } from "./dialog";
import { ErrorLine } from "./messages";

interface Link {
  id: string;
  url?: string | null;
  expires_at: string | null;
  max_downloads: number | null;
  downloads: number;
  has_password: boolean;
  upload_only: boolean;
  created_at: string;
}

interface Window {
  window_start: string;
  window_end: string;
  downloads: number;
  bytes: number;
}

interface Stats {
  downloads: number;
  bytes: number;
  windows: Window[];
  links: { link_id: string; downloads: number; bytes: number }[];
}

const TEXT_PREVIEW_BYTES = 64 * 1024;

// Media elements fetch the same URL as a download (the download cookie authorises them) and ask
// for Ranges themselves; text is fetched as its first 64 KiB with a Range header.
function Preview({ node }: { node: FileInfo }) {
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const url = fileUrl(node.owner, node.path);
  const type = node.content_type;
  const isText = type.startsWith("text/") || type === "application/json";
  useEffect(() => {
    if (!isText) return;
    fetch(url, { headers: { Range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}`, Authorization: `Bearer ${session.token}` } })
      .then(async (response) => {
        if (!response.ok) throw new Error(`the server answered ${response.status}`);
        setText(await response.text());
      })
      .catch((failure) => setError(describeError(failure)));
  }, [url]);
  let body = null;
  if (type.startsWith("image/")) body = <img src={url} alt={`Preview of ${node.filename}`} class="preview-media" />;
  else if (type.startsWith("video/")) body = <video src={url} controls preload="metadata" class="preview-media" aria-label={`Video ${node.filename}`} />;
  else if (type.startsWith("audio/")) body = <audio src={url} controls preload="metadata" aria-label={`Audio ${node.filename}`} />;
  else if (isText)
    body =
      text === null ? (
        <p>Loading…</p>
      ) : (
        <pre class="preview-text" tabIndex={0} aria-label={`Text of ${node.filename}`}>
          {text}
          {node.size > TEXT_PREVIEW_BYTES ? "\n…" : ""}
        </pre>
      );
  else if (type === "application/pdf")
    body = (
      <p>
        PDF files open in your browser's viewer:{" "}
        <a href={url} target="_blank" rel="noopener">
          open {node.filename}
        </a>
      </p>
    );
  else body = <p>No preview for {type}.</p>;
  return (
    <section aria-labelledby="preview-title">
      <h3 id="preview-title">Preview</h3>
      <ErrorLine error={error} />
      {body}
    </section>
  );
}

function Grants({ node }: { node: NodeInfo }) {
  const [grantees, setGrantees] = useState<string[]>([]);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const base = `/files/${node.id}/permissions`;
  const load = () => api<string[]>(base).then(setGrantees, (failure) => setError(describeError(failure)));
  useEffect(() => {
    void load();
  }, [node.id]);
  async function run(call: Promise<unknown>) {
    setError(null);
    try {
      await call;
    } catch (failure) {
      setError(describeError(failure));
    }
    await load();
  }
  return (
    <section aria-labelledby="grants-title">
      <h3 id="grants-title">Shared with users</h3>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void run(api(`${base}/${encodeURIComponent(name.trim())}`, { method: "PUT" })).then(() => setName(""));
        }}
      >
        <label>
          Username to share with
          <input value={name} required onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Share</button>
      </form>
      <ErrorLine error={error} />
      {grantees.length === 0 ? <p class="empty">Not shared with anyone.</p> : null}
      <ul class="plain">
        {grantees.map((grantee) => (
          <li key={grantee}>
            {grantee}{" "}
            <button type="button" onClick={() => run(api(`${base}/${encodeURIComponent(grantee)}`, { method: "DELETE" }))}>
              Revoke {grantee}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Links({ node }: { node: NodeInfo }) {
  const [links, setLinks] = useState<Link[]>([]);
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [expires, setExpires] = useState("");
  const [password, setPassword] = useState("");
  const [maxDownloads, setMaxDownloads] = useState("");
  const [uploadOnly, setUploadOnly] = useState(false);
  const [copied, setCopied] = useState(false);
  const base = `/files/${node.id}/links`;
  const load = () => api<Link[]>(base).then(setLinks, (failure) => setError(describeError(failure)));
  useEffect(() => {
    void load();
  }, [node.id]);
  async function create(event: Event) {
    event.preventDefault();
    setError(null);
    const body: Record<string, unknown> = { upload_only: uploadOnly };
    if (expires) body.expires_at = new Date(expires).toISOString();
    if (password) body.password = password;
    if (maxDownloads) body.max_downloads = Number(maxDownloads);
    try {
      const link = await api<Link>(base, { method: "POST", body });
      // The API builds the URL from its listener; the address bar's origin is the one to hand out.
      const made = new URL(link.url ?? "", location.href);
      setCreated(location.origin + made.pathname);
      setCopied(false);
      setPassword("");
    } catch (failure) {
      setError(describeError(failure));
    }
    await load();
  }
  async function revoke(id: string) {
    try {
      await api(`/links/${id}`, { method: "DELETE" });
    } catch (failure) {
      setError(describeError(failure));
    }
    await load();
  }
  return (
    <section aria-labelledby="links-title">
      <h3 id="links-title">Share links</h3>
      <form class="link-form" onSubmit={create}>
        <label>
          Expires (optional)
          <input type="datetime-local" value={expires} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Password (optional)
          <input type="password" autocomplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Download limit (optional)
          <input type="number" min={1} value={maxDownloads} onInput={(e) => setMaxDownloads((e.target as HTMLInputElement).value)} />
        </label>
        {node.type === "folder" ? (
          <label class="check">
            <input type="checkbox" checked={uploadOnly} onChange={() => setUploadOnly(!uploadOnly)} />
            Upload only (a file request: recipients can only add files)
          </label>
        ) : null}
        <button type="submit">Create link</button>
      </form>
      <ErrorLine error={error} />
      {created ? (
        <p class="notice" role="status">
          New link (shown once): <a href={created} data-testid="new-link">{created}</a>{" "}
          <button
            type="button"
            onClick={() =>
              navigator.clipboard.writeText(created).then(
                () => setCopied(true),
                () => setError("copying was refused: select the link and copy it"),
              )
            }
          >
            {copied ? "Copied" : "Copy link"}
          </button>
        </p>
      ) : null}
      <ul class="plain links">
        {links.map((link) => (
          <li key={link.id} data-testid="link">
            <span>
              {link.upload_only ? "Upload-only link" : "Link"} · {link.downloads} download{link.downloads === 1 ? "" : "s"}
              {link.max_downloads !== null ? ` of ${link.max_downloads}` : ""}
              {link.has_password ? " · password" : ""}
              {link.expires_at ? ` · expires ${formatDate(link.expires_at)}` : ""} · created {formatDate(link.created_at)}
            </span>{" "}
            <button type="button" onClick={() => revoke(link.id)}>
              Revoke link
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

// An inline SVG bar chart of downloads per window: a few rectangles need no charting library.
function StatsChart({ node }: { node: NodeInfo }) {
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Stats>(`/files/${node.id}/stats`).then(setStats, (failure) => setError(describeError(failure)));
  }, [node.id]);
  const windows = stats?.windows ?? [];
  const most = Math.max(1, ...windows.map((w) => w.downloads));
  const width = 320;
  const height = 120;
  const bar = windows.length ? width / windows.length : width;
  return (
    <section aria-labelledby="stats-title">
      <h3 id="stats-title">Downloads</h3>
      <ErrorLine error={error} />
      {stats ? (
        <>
          <p data-testid="stats-total">
            {stats.downloads} download{stats.downloads === 1 ? "" : "s"} · {formatSize(stats.bytes)} served
          </p>
          {windows.length ? (
            <svg viewBox={`0 0 ${width} ${height + 16}`} class="chart" role="img" aria-label={`Downloads per 5 minutes, at most ${most}`}>
              {windows.map((w, i) => {
                const h = (w.downloads / most) * height;
                return (
                  <rect key={w.window_start} x={i * bar + 1} y={height - h} width={Math.max(1, bar - 2)} height={h} class="bar">
                    <title>
                      {formatDate(w.window_start)}: {w.downloads} downloads, {formatSize(w.bytes)}
                    </title>
                  </rect>
                );
              })}
              <line x1="0" y1={height} x2={width} y2={height} class="axis" />
            </svg>
          ) : (
            <p class="empty">No downloads counted yet (counts arrive within a few minutes).</p>
          )}
        </>
      ) : null}
    </section>
  );
}

export function DetailsDialog({ node, onClose }: { node: NodeInfo; onClose: () => void }) {
  const name = node.type === "folder" ? node.name : node.filename;
  return (
    <Dialog title={`Details of ${name}`} onClose={onClose}>
      <div class="details">
        <p class="muted">
          {node.type === "folder" ? `Folder · ${node.item_count} items · ${formatSize(node.total_size)}` : `${node.content_type} · ${formatSize(node.size)}`}
        </p>
        {node.type === "file" ? <Preview node={node} /> : null}
        <Grants node={node} />
        <Links node={node} />
        <StatsChart node={node} />
        <div class="dialog-buttons">
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </Dialog>
  );
}
