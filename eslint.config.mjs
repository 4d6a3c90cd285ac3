// Type-aware lint over the repo's TypeScript, deliberately small: only rules that catch real bugs
// the compiler lets through. A promise nobody awaits loses its rejection (an unhandled rejection
// kills the process, or a failure goes unnoticed) and a promise passed where a plain callback is
// expected (an event handler, a setInterval) is never awaited by its caller.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'dist/**', '.tools/**', '.run/**', 'artifacts/**', 'test/histories/**', '**/*.js', '**/*.mjs'],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A control character in a pattern is almost always a typo; the one deliberate use says so.
      'no-control-regex': 'error',
    },
  },
);
