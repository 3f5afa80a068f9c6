import { type Action, stopConnection } from "./action.ts";
import { type Connection, sendText } from "./connection.ts";
import type { Message, Notice } from "./message.ts";
import type { Result, SendError } from "./result.ts";
import type { StandardSchemaV1 } from "./standard-schema.ts";
import { isThenable } from "./thenable.ts";
import type { MessageHandler } from "./upgrade.ts";

/**
 * Why a text frame was not a valid message.
 *
 * @example
 * ```ts
 * if (message.type === "invalid" && message.error.type === "schema") {
 *   sendJson(connection, { error: message.error.issues.map((issue) => issue.message) });
 * }
 * ```
 */
export type JsonError =
  | { readonly type: "syntax"; readonly message: string }
  | { readonly type: "schema"; readonly issues: readonly StandardSchemaV1.Issue[] };

/**
 * What a {@link jsonMessages} handler gets: text frames arrive parsed and validated. `Notices`
 * are the notices it opts into, as in `Message` (a `rate_limited` notice carries the raw frame).
 *
 * @example
 * ```ts
 * jsonMessages(Say, (state, message: JsonMessage<{ text: string }, never>, connection) => {
 *   if (message.type === "json") sendText(connection, message.value.text);
 *   return continueConnection(state);
 * });
 * ```
 */
export type JsonMessage<T, Custom, Notices extends Notice = never> =
  | { readonly type: "json"; readonly value: T }
  | { readonly type: "invalid"; readonly text: string; readonly error: JsonError }
  // Message<Custom, Notices> but text, written out so that TypeScript infers Custom and Notices from a handler.
  | Extract<Message<never>, { type: "binary" | "closed" }>
  | { readonly type: "custom"; readonly value: Custom }
  | Notices;

/**
 * Options of {@link jsonMessages}.
 *
 * @example
 * ```ts
 * onMessage: jsonMessages(Say, handleSay, { invalid: "close" }),
 * ```
 */
export interface JsonMessagesOptions {
  /**
   * What an invalid text frame does: `"deliver"` (default) hands it to the handler as
   * `{ type: "invalid" }`; `"close"` closes the socket, with 1007 when it is not JSON and 1008
   * when it does not match the schema (`onClose` runs as usual).
   */
  invalid?: "deliver" | "close";
}

/**
 * Wraps an `onMessage` handler so that text frames arrive as JSON validated by `schema`, any
 * Standard Schema (zod, valibot, arktype, …). Binary, custom and closed messages pass through.
 * A schema that validates synchronously costs no promise per message.
 *
 * @example
 * ```ts
 * const Chat = z.object({ type: z.literal("say"), text: z.string().max(500) });
 * upgradeWebSocket(request, {
 *   dependencies, onInit, onClose,
 *   onMessage: jsonMessages(Chat, (state, message, connection) => {
 *     if (message.type === "json") sendJson(connection, { echo: message.value.text });
 *     return continueConnection(state);
 *   }, { invalid: "close" }),
 * });
 * ```
 */
export function jsonMessages<Schema extends StandardSchemaV1, State, Custom, Deps, Notices extends Notice = never>(
  schema: Schema,
  onMessage: MessageHandler<State, Custom, Deps, JsonMessage<StandardSchemaV1.InferOutput<Schema>, Custom, Notices>>,
  options: JsonMessagesOptions = {},
): MessageHandler<State, Custom, Deps, Message<Custom, Notices>> {
  type Out = StandardSchemaV1.InferOutput<Schema>;
  const close = options.invalid === "close";
  const standard = schema["~standard"];

  const invalid = (state: State, text: string, error: JsonError, connection: Connection, deps: Deps) => {
    if (!close) return onMessage(state, { type: "invalid", text, error }, connection, deps);
    return error.type === "syntax"
      ? stopConnection({ code: 1007, reason: "Invalid JSON" })
      : stopConnection({ code: 1008, reason: "Invalid message" });
  };
  const checked = (
    state: State,
    text: string,
    result: StandardSchemaV1.Result<unknown>,
    connection: Connection,
    deps: Deps,
  ): Action<State, Custom> | Promise<Action<State, Custom>> =>
    result.issues
      ? invalid(state, text, { type: "schema", issues: result.issues }, connection, deps)
      : onMessage(state, { type: "json", value: result.value as Out }, connection, deps);

  return (state, message, connection, deps) => {
    // Not a text frame: the same message (TypeScript cannot narrow the generic Notices by its type).
    if (message.type !== "text") return onMessage(state, message as JsonMessage<Out, Custom, Notices>, connection, deps);
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.text);
    } catch (error) {
      return invalid(state, message.text, { type: "syntax", message: (error as Error).message }, connection, deps);
    }
    // Called as a method: a schema's validate may use `this`.
    const result = standard.validate(parsed);
    if (isThenable(result))
      return Promise.resolve(result).then((settled) => checked(state, message.text, settled, connection, deps));
    return checked(state, message.text, result, connection, deps);
  };
}

/**
 * Sends `value` as a JSON text frame. Like sendText it answers socket trouble with an error value;
 * a value JSON cannot represent (undefined, a function, a cycle, a BigInt) is a bug and throws.
 *
 * @example
 * ```ts
 * sendJson(connection, { type: "welcome", users: 3 });
 * ```
 */
export function sendJson(connection: Connection, value: unknown): Result<void, SendError> {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError("sendJson: the value has no JSON representation");
  return sendText(connection, text);
}
