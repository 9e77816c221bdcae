#!/usr/bin/env node
// Validates Gateway API objects (gateway.networking.k8s.io/v1 Gateway and HTTPRoute) offline,
// against the schemas generated from the Gateway API CRDs in the npm package
// @kubernetes-models/gateway-api (installed by `npm ci`). kubernetes-validate has no schema for
// these kinds, as for KEDA's.
//
//   node deployment/validate_gateway.mjs < documents.json
//
// stdin: a JSON list of objects. Prints one line per object (`ok Kind/name` or
// `invalid Kind/name: reason`) and exits 1 if any is invalid, 2 if it cannot validate at all.
// The package checks types, required fields, enums, patterns and ranges; it does not reject
// unknown fields, so the tests compare field names themselves.

import { createRequire } from "node:module";

const KINDS = ["Gateway", "HTTPRoute"];

async function loadModels() {
  try {
    createRequire(import.meta.url).resolve("@kubernetes-models/gateway-api/package.json");
    return await import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1");
  } catch (error) {
    console.error(`cannot load @kubernetes-models/gateway-api: run \`npm ci\` (${error.message})`);
    process.exit(2);
  }
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function main() {
  const models = await loadModels();
  const documents = await readStdin();
  let invalid = 0;
  for (const document of documents) {
    const where = `${document.kind}/${document.metadata?.name}`;
    if (document.apiVersion !== "gateway.networking.k8s.io/v1" || !KINDS.includes(document.kind)) {
      console.log(`invalid ${where}: not a gateway.networking.k8s.io/v1 ${KINDS.join(" or ")}`);
      invalid += 1;
      continue;
    }
    try {
      new models[document.kind](document).validate();
      console.log(`ok ${where}`);
    } catch (error) {
      console.log(`invalid ${where}: ${error.message.replaceAll("\n", " ")}`);
      invalid += 1;
    }
  }
  process.exit(invalid === 0 ? 0 : 1);
}

await main();
