// One lint command for the whole repo: `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

const RUNTIME_WIDE = [
  {
    group: ['**/http/**', '**/app.js', '**/cli/**', '**/web/**'],
    message: 'the runtime must not import the HTTP layer, the CLI or the web app',
  },
  { group: ['fastify', '@fastify/*', 'svelte', 'svelte/*'], message: 'the runtime must not depend on Fastify or Svelte' },
];

/** Per runtime folder, the folders it must not import (the composition root, runtime.ts, may import any). */
const LAYERS = {
  transport: ['swarm', 'discovery', 'peers', 'content', 'library', 'state', 'transfer', 'download', 'extract', 'install', 'stream-install'],
  discovery: ['swarm', 'peers', 'content', 'transfer', 'download', 'extract', 'install', 'stream-install'],
  library: ['swarm', 'transport', 'peers', 'transfer', 'download', 'extract', 'install', 'stream-install'],
  state: ['swarm', 'transport', 'peers', 'transfer', 'download', 'extract', 'install', 'stream-install'],
  content: ['swarm', 'transport', 'peers', 'transfer', 'download', 'extract', 'install', 'stream-install'],
  extract: ['swarm', 'transport', 'peers', 'content', 'library', 'transfer', 'download', 'install', 'stream-install'],
  peers: ['swarm', 'transfer', 'download', 'extract', 'install', 'stream-install'],
  transfer: ['swarm', 'download', 'extract', 'install', 'stream-install'],
  swarm: ['transfer', 'download', 'extract', 'install', 'stream-install'],
  download: ['extract', 'install', 'stream-install'],
  install: ['swarm', 'transport', 'peers', 'transfer', 'download', 'stream-install'],
  'stream-install': ['download'],
};

export default tseslint.config(
  { ignores: ['dist/', 'web/dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['web/**/*.{ts,svelte}'],
    languageOptions: { globals: { ...globals.browser }, parserOptions: { parser: tseslint.parser } },
  },
  // The headless core knows nothing of HTTP, the dashboard or the CLI (STYLE.md, habit 1),
  // and its folders import one way only: transport ← peers ← swarm ← download / stream-install / install
  // (docs/ARCHITECTURE.md). A later block for the same files replaces the rule's options, so
  // every block repeats the runtime-wide patterns.
  { files: ['server/runtime/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: RUNTIME_WIDE }] } },
  ...Object.entries(LAYERS).map(([folder, forbidden]) => ({
    files: [`server/runtime/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...RUNTIME_WIDE,
            {
              group: forbidden.map((f) => `**/${f}/**`),
              message: `${folder}/ must not import ${forbidden.join(', ')}: the direction is transport ← peers ← swarm ← download / stream-install / install`,
            },
          ],
        },
      ],
    },
  })),
);
