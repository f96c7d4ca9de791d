import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// Every asset is emitted into dist/ and served by nginx from the same origin (no CDN). No inline
// scripts: the module preload polyfill is bundled, and index.html only references files.
export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
