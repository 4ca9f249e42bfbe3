// Builds the dashboard into web/dist, which the node serves at `/`. In dev mode
// (`npm run dev:web`) the API and its WebSocket are proxied to a running node.
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
/** The node whose API the dev server forwards to; override with LANSPREAD_API. */
const apiTarget = process.env.LANSPREAD_API ?? 'http://127.0.0.1:7420';

export default defineConfig({
  root,
  plugins: [svelte()],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
  },
  server: {
    proxy: {
      '/api': {
        target: apiTarget,
        ws: true,
        changeOrigin: true,
        // The node refuses state-changing requests from a foreign Origin; the dev
        // server's own origin is foreign to it, so present the node's origin instead.
        configure(proxy) {
          proxy.on('proxyReq', (req) => req.setHeader('origin', apiTarget));
          proxy.on('proxyReqWs', (req) => req.setHeader('origin', apiTarget));
        },
      },
    },
  },
});
