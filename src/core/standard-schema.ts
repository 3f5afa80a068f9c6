// The Standard Schema v1 interface (https://standardschema.dev), copied as its authors intend so
// that wsloop needs no dependency to accept zod, valibot, arktype and the rest.

/**
 * A schema of any library that implements Standard Schema v1 (zod, valibot, arktype, …), as
 * {@link jsonMessages} takes it.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * const schema: StandardSchemaV1<unknown, { text: string }> = z.object({ text: z.string() });
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The library's implementation of the standard. */
  readonly "~standard": StandardSchemaV1.Props<Input, Output>;
}

/** The parts of {@link StandardSchemaV1}. */
export declare namespace StandardSchemaV1 {
  /** What a schema's `~standard` property holds. */
  export interface Props<Input = unknown, Output = Input> {
    /** The version of the standard: 1. */
    readonly version: 1;
    /** The library's name. */
    readonly vendor: string;
    /** Validates a value: the typed output, or the issues found. */
    readonly validate: (value: unknown, options?: Options | undefined) => Result<Output> | Promise<Result<Output>>;
    /** Types for inference only. */
    readonly types?: Types<Input, Output> | undefined;
  }
  /** What `validate` answers. */
  export type Result<Output> = SuccessResult<Output> | FailureResult;
  /** A valid value. */
  export interface SuccessResult<Output> {
    /** The typed output. */
    readonly value: Output;
    /** Absent on success. */
    readonly issues?: undefined;
  }
  /** Options a library may take in `validate`. */
  export interface Options {
    /** Library-specific options. */
    readonly libraryOptions?: Record<string, unknown> | undefined;
  }
  /** An invalid value. */
  export interface FailureResult {
    /** What is wrong with it. */
    readonly issues: ReadonlyArray<Issue>;
  }
  /** One problem found by a schema. */
  export interface Issue {
    /** A description for people. */
    readonly message: string;
    /** Where in the value, if anywhere in particular. */
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  /** One step of an issue's path. */
  export interface PathSegment {
    /** The property or index. */
    readonly key: PropertyKey;
  }
  /** The input and output types of a schema, for inference. */
  export interface Types<Input = unknown, Output = Input> {
    /** What the schema accepts. */
    readonly input: Input;
    /** What it produces. */
    readonly output: Output;
  }
  /** The output type of a schema. */
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<Schema["~standard"]["types"]>["output"];
}
