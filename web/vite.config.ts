import { defineConfig } from 'vite';

/**
 * The playground's build: Preact's JSX through Vite's own transform (no Babel preset), one
 * bundle per page load, everything served from this origin (no CDN, no web font).
 */
export default defineConfig({
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The SDK is most of the bundle; one file keeps the first load to two requests.
    chunkSizeWarningLimit: 400,
  },
});
