// One lint command for the whole repo: `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

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
  {
    // The headless core knows nothing of HTTP, the dashboard or the CLI (STYLE.md, habit 1).
    files: ['server/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/http/**', '**/app.js', '**/cli/**', '**/web/**'],
              message: 'the runtime must not import the HTTP layer, the CLI or the web app',
            },
            { group: ['fastify', '@fastify/*', 'svelte', 'svelte/*'], message: 'the runtime must not depend on Fastify or Svelte' },
          ],
        },
      ],
    },
  },
);
