// @ikigai/client: the typed Ikigai API client. See README.md for the journey.
export {
  createIkigaiClient,
  memoryTokenStore,
  type IkigaiClient,
  type IkigaiClientOptions,
  type Session,
  type SignInResult,
  type TokenStore,
  type User,
} from "./client.js";
export {
  expectOk,
  IkigaiProblemError,
  isIkigaiProblemError,
  unwrap,
  type FetchResult,
  type FieldErrorCode,
  type ProblemCode,
  type UnauthorizedReason,
} from "./problem.js";
export { paginate, type Page } from "./paginate.js";
export {
  openNotificationStream,
  type EventSourceConstructor,
  type EventSourceLike,
  type Notification,
  type NotificationStream,
  type NotificationStreamOptions,
} from "./stream.js";
export type { components, paths } from "./generated/api.js";
