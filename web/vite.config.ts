import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web UI, built into dist/web by `npm run build` (and so by `npm ci`); the server serves it
// from memory, the pages at `/…` and these files under `/ui/`.
export default defineConfig(({ command }) => ({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The dev server answers every page path with index.html at its root, as the real server does.
  base: command === 'serve' ? '/' : '/ui/',
  // Preact's JSX without a plugin: esbuild does the transform.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be an inline script, which the page's Content-Security-Policy forbids.
    modulePreload: { polyfill: false },
  },
  // `npx vite --config web/vite.config.ts` against a server on :5000, for working on the UI.
  server: {
    proxy: Object.fromEntries(['/api', '/auth', '/chartrepo'].map((path) => [path, 'http://127.0.0.1:5000'])),
  },
}));
