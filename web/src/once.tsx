// A secret the API shows once (an invite, a reset or an API token): said once, with a copy button.
import { useState } from "preact/hooks";

export function ShownOnce({ label, value, hint, testId }: { label: string; value: string; hint?: string; testId: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  return (
    <div class="notice shown-once" role="status">
      <p>
        {label} (shown once, keep it now): <code data-testid={testId}>{value}</code>{" "}
        <button
          type="button"
          onClick={() =>
            navigator.clipboard.writeText(value).then(
              () => setCopied("Copied"),
              () => setCopied("Copying was refused: select the text and copy it"),
            )
          }
        >
          Copy
        </button>{" "}
        {copied ? <span>{copied}</span> : null}
      </p>
      {hint ? <p>{hint}</p> : null}
    </div>
  );
}

const SIZE = /^(\d+)\s*([kmgt]?)i?b?$/i;
const FACTORS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "10G", "500M", bytes, or "unlimited"/"0"/"" (null): as the CLI reads them. Throws on anything else. */
export function parseSize(text: string): number | null {
  const trimmed = text.trim().toLowerCase();
  if (["", "unlimited", "none", "0"].includes(trimmed)) return null;
  const match = SIZE.exec(trimmed);
  if (!match) throw new Error("give bytes, a size such as 500M or 10G, or unlimited");
  return Number(match[1]) * FACTORS[match[2]];
}

/** Bytes as parseSize reads them back: 2147483648 is "2G"; a size no unit divides stays bytes. */
export function sizeInput(bytes: number | null): string {
  if (!bytes) return "";
  for (const unit of ["t", "g", "m", "k"]) if (bytes % FACTORS[unit] === 0) return `${bytes / FACTORS[unit]}${unit.toUpperCase()}`;
  return String(bytes);
}

/** An <input type="datetime-local"> value as the API's ISO time, or undefined when empty. */
export function isoOrUndefined(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}
