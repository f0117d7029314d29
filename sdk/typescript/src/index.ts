// @gx/client: the GX mesh over REST for mobile and web (types generated from gen/openapi/openapi.json).
export { GxClient, Operation } from "./client.js";
export type { GxClientOptions, OperationProto, Qirat, Schemas, Transaction, User, Wallet } from "./client.js";
export { GxError, OperationFailed } from "./errors.js";
export type { FieldViolation } from "./errors.js";
export { Session } from "./session.js";
export type { Tokens } from "./session.js";
export { DEFAULT_RETRY } from "./transport.js";
export type { RetryPolicy } from "./transport.js";
export type { components, paths } from "./generated/schema.js";
