// Generates src/generated/ from the OpenAPI document (run by `npm run build`; never edited by hand):
//   schema.ts      the document's paths and schemas as TypeScript types (openapi-typescript);
//   operations.ts  the operations whose body carries `requestId` (the SDK fills it and may retry them)
//                  and the public ones (`security: []`: no token needed, so none is fetched for them).
import fs from "node:fs";
import path from "node:path";
import openapiTS, { astToString } from "openapi-typescript";

const [source, outDir] = process.argv.slice(2);
if (!source || !outDir) {
  console.error("usage: generate.mjs OPENAPI_JSON OUT_DIR");
  process.exit(2);
}
const document = JSON.parse(fs.readFileSync(source, "utf8"));
fs.mkdirSync(outDir, { recursive: true });

const header = `// Generated from ${path.basename(source)} by scripts/generate.mjs. Do not edit.\n`;
const ast = await openapiTS(document);
fs.writeFileSync(path.join(outDir, "schema.ts"), header + astToString(ast));

// "POST /v1/wallets/{walletId}:transfer" for every operation whose JSON body has requestId.
const keyed = [];
const open = [];
for (const [route, item] of Object.entries(document.paths)) {
  for (const [method, operation] of Object.entries(item)) {
    const schema = operation?.requestBody?.content?.["application/json"]?.schema;
    const resolved = schema?.$ref ? resolve(document, schema.$ref) : schema;
    if (resolved?.properties?.requestId) keyed.push(`${method.toUpperCase()} ${route}`);
    if (Array.isArray(operation?.security) && operation.security.length === 0) open.push(`${method.toUpperCase()} ${route}`);
  }
}
if (keyed.length === 0) throw new Error("no operation carries requestId: the document is not what this expects");
fs.writeFileSync(
  path.join(outDir, "operations.ts"),
  header +
    `export const IDEMPOTENT_OPERATIONS: readonly string[] = ${JSON.stringify(keyed.sort(), null, 2)};\n` +
    `export const PUBLIC_OPERATIONS: readonly string[] = ${JSON.stringify(open.sort(), null, 2)};\n`,
);

function resolve(doc, ref) {
  return ref.replace(/^#\//, "").split("/").reduce((node, key) => node?.[key], doc);
}
