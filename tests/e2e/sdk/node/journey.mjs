// The money journey with @gx/client under node, through the real edge. Prints one JSON line of what it saw;
// tests/e2e/sdk/test_sdk_typescript_journey.py starts it and checks the figures.
import { execFileSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";

import { GxClient, GxError } from "../../../../sdk/typescript/dist/index.js";

const { baseUrl, adminEmail, password, apiKey, mailCode } = JSON.parse(process.argv[2]);

// The code of the verification mail sent to `email`, read by the command the test gives us.
function verificationCode(email) {
  return execFileSync(mailCode.argv[0], [...mailCode.argv.slice(1), "--email", email], { cwd: mailCode.cwd, encoding: "utf8" }).trim();
}

async function caught(promise) {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof GxError)) throw error;
    return { code: error.code, status: error.status, reason: error.reason, fields: error.violations.map((v) => v.field) };
  }
  return null;
}

async function onboard(admin) {
  const email = `ts-${randomUUID().slice(0, 10)}@example.com`;
  const user = await new GxClient({ baseUrl }).register({ email, password, countryCode: "LK", displayName: "TS" });
  const client = new GxClient({ baseUrl, email, password });
  // KYC needs a verified email: the registration mail's code, as the app would take it.
  await client.verifyEmail(verificationCode(email));
  const { error, response } = await client.api.POST("/v1/users/{userId}/kyc:submit", {
    params: { path: { userId: "me" } },
    body: {
      requestId: "",
      firstName: "A",
      lastName: "B",
      dateOfBirth: "1990-05-17",
      nationality: "LK",
      documents: [{ type: "KYC_DOCUMENT_TYPE_PASSPORT", sha256: createHash("sha256").update(email).digest("hex") }],
    },
  });
  if (!response.ok) throw GxError.fromStatus(response.status, error);
  const approved = await (await admin.approveKyc(user.userId)).wait();
  return { id: user.userId, client, approvedState: approved.state, state: (await client.me()).state };
}

const admin = new GxClient({ baseUrl, email: adminEmail, password });
const alice = await onboard(admin);
const bob = await onboard(admin);
const before = [(await alice.client.wallet()).balanceQirat, (await bob.client.wallet()).balanceQirat];

const operation = await alice.client.transfer({ amountQirat: 50_000_000n, toUserId: bob.id, remark: "rent" });
const done = await operation.wait();
const after = [(await alice.client.wallet()).balanceQirat, (await bob.client.wallet()).balanceQirat];
const history = [];
for await (const entry of alice.client.transactions("me", 1)) history.push(entry.type);

const key = randomUUID();
const first = await alice.client.transfer({ amountQirat: 1n, toUserId: bob.id, requestId: key });
const again = await alice.client.transfer({ amountQirat: 1n, toUserId: bob.id, requestId: key });
await first.wait();

const invalid = await caught(alice.client.transfer({ amountQirat: 0, toUserId: bob.id }));
const broke = await caught(
  alice.client.transfer({ amountQirat: 10n ** 15n, toUserId: bob.id }).then((op) => op.wait()),
);
const stranger = await caught(bob.client.operation(operation.id));

// A refused token is renewed with the refresh token; without one, the refusal is a typed error.
const renewed = new GxClient({ baseUrl, accessToken: "not-a-jwt", refreshToken: alice.client.session.refreshToken });
const renewedUser = (await renewed.me()).userId;
const stale = await caught(new GxClient({ baseUrl, accessToken: "not-a-jwt" }).me());

// An API key alone makes its partner the caller.
const keyed = await new GxClient({ baseUrl, apiKey }).api.GET("/v1/partners/{partnerId}", {
  params: { path: { partnerId: "me" } },
});
const keyedPartner = keyed.response.ok ? keyed.data.partner.partnerId : `HTTP ${keyed.response.status}`;

console.log(
  JSON.stringify({
    onboarded: [alice.approvedState, alice.state, bob.approvedState, bob.state],
    before,
    transfer: { state: done.state, commandType: done.commandType, blockNumber: done.blockNumber },
    after,
    history,
    replayedSameOperation: first.proto.name === again.proto.name,
    invalid,
    broke,
    stranger,
    renewedIsAlice: renewedUser === alice.id,
    stale,
    keyedPartner,
  }),
);
