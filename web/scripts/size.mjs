// Prints the gzip size of the JavaScript the first screen loads (every script index.html
// references, and what they statically import): the budget is 250 KiB compressed.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET_KIB = 250;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const referenced = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const files = referenced.length ? referenced : readdirSync(join(dist, "assets")).filter((f) => f.endsWith(".js")).map((f) => `assets/${f}`);
let total = 0;
for (const file of files) {
  const bytes = readFileSync(join(dist, file));
  const gz = gzipSync(bytes, { level: 9 }).length;
  total += gz;
  console.log(`${file}: ${(bytes.length / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzip`);
}
console.log(`first-screen JavaScript: ${(total / 1024).toFixed(1)} KiB gzip (budget ${BUDGET_KIB} KiB)`);
if (total > BUDGET_KIB * 1024) {
  console.error("over budget");
  process.exit(1);
}
