// The console's build: `npm run build` (tools/scripts/build.mjs) writes it to dist/apps/console, which the gateway
// serves under /console. Only types come from @openecm/contracts, so nothing of the server side is bundled.
import react from '@vitejs/plugin-react';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/console/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: resolve(here, '../../dist/apps/console'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // the grid and the chart are large by nature; one chunk each keeps the page's requests few
    chunkSizeWarningLimit: 2500,
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (id.includes('node_modules/ag-grid')) return 'grid';
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'chart';
          if (id.includes('node_modules/react')) return 'react';
          return undefined;
        },
      },
    },
  },
});
