import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", ".corral/**", "load-tests/results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Node's globals everywhere but in the web UI's script, which runs in browsers.
    ignores: ["services/gateway/ui/**"],
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", setTimeout: "readonly" } },
  },
  {
    files: ["services/gateway/ui/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: { window: "readonly", document: "readonly", fetch: "readonly", sessionStorage: "readonly", TextDecoderStream: "readonly", Node: "readonly", setTimeout: "readonly", console: "readonly" },
    },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      // Services talk to each other only through shared/ contracts (docs/architecture.md § Processes and layout).
      "no-restricted-imports": ["error", { patterns: [{ group: ["@corral/master", "@corral/scheduler", "@corral/borglet", "@corral/gateway", "@corral/cli"], message: "services import only shared/*" }] }],
    },
  },
  {
    files: ["deploy/**/*", "**/bin/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
);
