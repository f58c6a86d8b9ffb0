import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', 'coverage/', '**/*.d.ts', 'bin/cordon.js', 'jest.config.js', '.stryker-tmp/', 'reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The simulator (lib/simulator) is a test and demo tool: nothing deployed may depend on it.
    files: ['lambdas/**/*.ts', 'lib/*.ts', 'lib/constructs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)simulator(/|$)',
              message: 'lib/simulator is for tests, the demo and the bench: the Lambdas and the CDK app must not import it.',
            },
          ],
        },
      ],
    },
  },
);
