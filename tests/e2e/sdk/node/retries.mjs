// @gx/client's transport against a real local HTTP server that fails on purpose: 503 twice then an
// answer. Prints one JSON line of what the server saw; test_sdk_typescript_journey.py checks it.
import http from "node:http";

import { GxClient, GxError } from "../../../../sdk/typescript/dist/index.js";

const seen = [];
const server = http.createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    seen.push({ method: request.method, url: request.url, body: body ? JSON.parse(body) : null, headers: request.headers });
    const forPath = seen.filter((s) => s.url === request.url).length;
    response.setHeader("content-type", "application/json");
    if (request.url === "/v1/auth:login") {
      response.statusCode = 503;
      response.end(JSON.stringify({ code: 14, message: "down", details: [] }));
    } else if (forPath <= 2) {
      response.statusCode = 503;
      response.end(JSON.stringify({ code: 14, message: "warming up", details: [] }));
    } else if (request.url.includes(":transfer") && JSON.parse(body).amountQirat === "13") {
      response.statusCode = 400;
      response.end(JSON.stringify({
        code: 9,
        message: "no",
        details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "INSUFFICIENT_FUNDS", domain: "wallet.gx" }],
      }));
    } else {
      response.statusCode = 202;
      response.end(JSON.stringify({ name: "operations/op-1", state: "OPERATION_STATE_PENDING" }));
    }
  });
});
await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
const baseUrl = `http://127.0.0.1:${server.address().port}`;
const gx = new GxClient({ baseUrl, accessToken: "tok-1", apiKey: "key-1", retry: { initialBackoffMs: 1 } });
const bob = "00000000-0000-4000-8000-000000000001";

const operation = await gx.transfer({ amountQirat: 5n, toUserId: bob });
const transfers = seen.filter((s) => s.url.endsWith(":transfer"));
let failed = null;
try {
  await gx.transfer({ amountQirat: 13n, toUserId: bob });
} catch (error) {
  failed = error instanceof GxError ? { reason: error.reason, code: error.code, status: error.status } : String(error);
}
let login = null;
try {
  await new GxClient({ baseUrl, retry: { initialBackoffMs: 1 } }).login("ada@example.com", "pw");
} catch (error) {
  login = error instanceof GxError ? { code: error.code, status: error.status } : String(error);
}
server.close();
console.log(
  JSON.stringify({
    operation: operation.id,
    attempts: transfers.length,
    requestIds: transfers.map((s) => s.body.requestId),
    authorization: transfers.map((s) => s.headers.authorization),
    apiKey: transfers.map((s) => s.headers["x-api-key"]),
    failed,
    failedAttempts: seen.filter((s) => s.url.endsWith(":transfer")).length - transfers.length,
    login,
    loginAttempts: seen.filter((s) => s.url === "/v1/auth:login").length,
  }),
);
