// What a frame from the server becomes for the client's onMessage.
import type { StandardSchemaV1 } from "../core/standard-schema.ts";
import { thenable } from "./serial.ts";
import type { ClientMessage } from "./types.ts";

/**
 * Binary data (an ArrayBuffer, or a view) as bytes; text as `text`, or with a `receive` schema as
 * `json` or `invalid` (the server's JsonError shapes). A schema that validates asynchronously
 * gives a promise.
 */
export function decode<In>(
  data: unknown,
  receive: StandardSchemaV1<unknown, In> | undefined,
): ClientMessage<In> | PromiseLike<ClientMessage<In>> {
  if (typeof data !== "string") {
    if (ArrayBuffer.isView(data)) return { type: "binary", data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    return { type: "binary", data: new Uint8Array(data as ArrayBuffer) };
  }
  if (!receive) return { type: "text", text: data };
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (error) {
    return { type: "invalid", text: data, error: { type: "syntax", message: (error as Error).message } };
  }
  const checked = (result: StandardSchemaV1.Result<In>): ClientMessage<In> =>
    result.issues
      ? { type: "invalid", text: data, error: { type: "schema", issues: result.issues } }
      : { type: "json", value: result.value };
  // Called as a method: a schema's validate may use `this`.
  const result = receive["~standard"].validate(parsed);
  return thenable(result) ? result.then(checked) : checked(result);
}
